// coalesceWrites: the pieces ssh2 writes for one packet reach the transport as one write.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { coalesceWrites } from "../../src/core/ssh/coalesce-writes.ts";

function recorder(): { stream: Writable; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, writes };
}

test("writes made in one synchronous run arrive as a single write, in order", async () => {
  const { stream, writes } = recorder();
  coalesceWrites(stream);
  stream.write(Buffer.from("len:"));
  stream.write(Buffer.from("ciphertext"));
  stream.write(Buffer.from(":tag"));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes.map(String), ["len:ciphertext:tag"]);
});

test("writes in separate turns stay separate", async () => {
  const { stream, writes } = recorder();
  coalesceWrites(stream);
  stream.write(Buffer.from("a"));
  await new Promise((r) => setImmediate(r));
  stream.write(Buffer.from("b"));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes.map(String), ["a", "b"]);
});

test("end() flushes what is queued before ending", async () => {
  const { stream, writes } = recorder();
  coalesceWrites(stream);
  stream.write(Buffer.from("bye"));
  stream.end(Buffer.from("!"));
  await new Promise((r) => stream.once("finish", r));
  assert.deepEqual(writes.map(String), ["bye", "!"]);
});

test("a write callback is called", async () => {
  const { stream } = recorder();
  coalesceWrites(stream);
  await new Promise<void>((resolve) => stream.write(Buffer.from("x"), () => resolve()));
});
