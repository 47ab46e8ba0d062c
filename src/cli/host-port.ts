// Parses the port and HOST:PORT command-line options and arguments (`--listen`, `--target`,
// `--port`, proxy's PORT) with the config's rules and wording, as usage errors (exit 2).
import type { HostPort } from "../core/config/types.ts";
import { HOST_PORT_FORMS, hostPortProblem } from "../core/config/index.ts";
import { MAX_PORT, portProblem } from "../core/config/host-port.ts";
import { UsageError } from "../core/errors.ts";

/** `--listen` accepts port 0 (any free port); destinations need a real port. */
export function parseHostPort(text: string, option: string): HostPort {
  const parsed = hostPortProblem(text, option === "--listen" ? 0 : 1);
  if (typeof parsed === "string") throw new UsageError(`${option}: ${parsed} in "${text}"`, { hint: `expected ${HOST_PORT_FORMS}` });
  return parsed;
}

/**
 * Every port option and argument goes through here, so `proxy --port 0` and
 * `known-hosts --port 0` say the same thing.
 * @example parsePort("2222", "--port") // 2222
 */
export function parsePort(text: string, option: string): number {
  const port = portProblem(text, 1);
  if (typeof port === "string") throw new UsageError(`${option}: ${port}`, { hint: `give a port number from 1 to ${MAX_PORT}` });
  return port;
}
