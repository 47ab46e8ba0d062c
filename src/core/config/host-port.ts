// Parses ports and `HOST:PORT` / `[IPv6]:PORT` (the `listen` and `target` attributes, `--listen`,
// `--target`, `--port`), returning either the value or a short reason for collecting validators.

import type { HostPort } from "./types.ts";

/** The forms accepted, for messages and hints. */
export const HOST_PORT_FORMS = "HOST:PORT or [IPv6]:PORT";

/** The largest port: TCP's, and the one ssh2vsock allows for a guest's vsock port too. */
export const MAX_PORT = 65535;

/**
 * The port a text names, or why it is not one. `minPort` is 0 where 0 means "any free port".
 * One rule (and one wording) for every port on the command line and in the config.
 * @example portProblem("2222", 1) // 2222
 * @example portProblem("0", 1) // "port 0 is outside 1 … 65535"
 */
export function portProblem(text: string, minPort: 0 | 1): number | string {
  if (!/^[0-9]{1,5}$/.test(text)) return `"${text}" is not a port number`;
  const port = Number(text);
  if (port < minPort || port > MAX_PORT) return `port ${port} is outside ${minPort} … ${MAX_PORT}`;
  return port;
}

/**
 * The parsed address, or why the text is not one. `minPort` is 0 for listeners (any free
 * port) and 1 for destinations.
 * @example hostPortProblem("[::1]:2201", 0) // { host: "::1", port: 2201 }
 * @example hostPortProblem("127.0.0.1", 1) // "a port is required"
 */
export function hostPortProblem(text: string, minPort: 0 | 1): HostPort | string {
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
  } else {
    const colon = text.lastIndexOf(":");
    if (colon === -1) return "a port is required";
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(":")) return "an IPv6 address must be written in brackets";
  }
  if (host === "") return "the host is empty";
  const port = portProblem(portText, minPort);
  return typeof port === "string" ? port : { host, port };
}

/** `host:port`, bracketing IPv6 literals. */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
