// Stops ssh2 formatting a trace line for every packet once a hop is up and nobody reads them:
// the handshake needs the trace (the server's host key formats, for errors); the data path does not.
import type { Client } from "ssh2";

interface WithProtocol {
  _protocol?: { _debug?: unknown };
}

/**
 * Drops the per-packet trace callback of a connected client's protocol (ssh2 builds a string
 * for every CHANNEL_DATA while one is set). Returns false when ssh2's internals have changed
 * shape, in which case nothing is touched.
 */
export function stopPacketTrace(client: Client): boolean {
  const protocol = (client as unknown as WithProtocol)._protocol;
  if (!protocol || typeof protocol._debug !== "function") return false;
  protocol._debug = undefined;
  return true;
}
