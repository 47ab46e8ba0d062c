// Gathers the writes ssh2 makes within one synchronous run into a single write, so each SSH
// packet reaches its transport whole instead of as length, ciphertext and tag (BENCHMARKS.md).
import type { Writable } from "node:stream";

/**
 * Makes `stream.write` queue its chunk and write everything queued in one call at the next
 * microtask: no added latency, but one outer SSH packet (or one TCP segment) per inner packet
 * where ssh2's AES-GCM would write three pieces — pieces a relay then forwards as separate small
 * segments, which Nagle's algorithm can hold for a delayed ACK (~40 ms) each. `end()` flushes
 * first. Returns the same stream.
 * @example client.connect({ sock: coalesceWrites(relayStream), … })
 */
export function coalesceWrites<T extends Writable>(stream: T): T {
  const write = stream.write.bind(stream) as (chunk: Buffer) => boolean;
  const end = stream.end.bind(stream) as (...args: unknown[]) => T;
  let queue: Buffer[] = [];
  const flush = () => {
    if (queue.length === 0) return;
    const chunks = queue;
    queue = [];
    if (!stream.writable) return;
    write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  };
  // ssh2 writes Buffers only and ignores the return value; honour the contract anyway.
  (stream as Writable).write = ((chunk: Buffer | string, ...rest: unknown[]) => {
    const buf = typeof chunk === "string" ? Buffer.from(chunk, typeof rest[0] === "string" ? (rest[0] as BufferEncoding) : "utf8") : chunk;
    if (queue.push(buf) === 1) queueMicrotask(flush);
    const cb = rest.find((r) => typeof r === "function") as ((e?: Error | null) => void) | undefined;
    if (cb) queueMicrotask(() => cb());
    return stream.writableLength < stream.writableHighWaterMark;
  }) as Writable["write"];
  (stream as Writable).end = ((...args: unknown[]) => {
    flush();
    return end(...args);
  }) as Writable["end"];
  return stream;
}
