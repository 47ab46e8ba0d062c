// Joins two byte streams both ways with backpressure (pipe) and correct half-close: the end of
// one direction ends only that direction; an error tears both down.
import type { Duplex } from "node:stream";

/**
 * Pipes a→b and b→a. Resolves when both streams have closed (or one failed and both were destroyed).
 * @example await joinStreams(tcpSocket, sshChannel)
 */
export function joinStreams(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0;
    const onClose = () => {
      if (++closed === 2) resolve();
    };
    const fail = () => {
      a.destroy();
      b.destroy();
    };
    a.once("close", onClose);
    b.once("close", onClose);
    a.on("error", fail);
    b.on("error", fail);
    a.pipe(b);
    b.pipe(a);
  });
}
