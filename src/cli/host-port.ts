// Parses the HOST:PORT command-line options (`--listen`, `--target`) with the same rules as
// the config's `listen` and `target`, as usage errors.
import type { HostPort } from "../core/config/types.ts";
import { HOST_PORT_FORMS, hostPortProblem } from "../core/config/index.ts";
import { UsageError } from "../core/errors.ts";

/** `--listen` accepts port 0 (any free port); destinations need a real port. */
export function parseHostPort(text: string, option: string): HostPort {
  const parsed = hostPortProblem(text, option === "--listen" ? 0 : 1);
  if (typeof parsed === "string") throw new UsageError(`${option}: ${parsed} in "${text}"`, { hint: `expected ${HOST_PORT_FORMS}` });
  return parsed;
}
