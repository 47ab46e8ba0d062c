// The hybrid vsock handshake against a scripted peer: OK hands over the stream (keeping the
// guest's first bytes), anything else is exit 6 showing what was received.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import { muxConnect, parseMuxReply, printable } from "../../src/core/vsock/vsock-mux.ts";
import type { CommandStream } from "../../src/core/vsock/command-stream.ts";
import { RelayError } from "../../src/core/errors.ts";

/** A stream whose peer answers `reply` (then optionally closes) once it has read a line. */
function peer(reply: Buffer | string | null, opts: { close?: boolean; stderr?: string; code?: number } = {}) {
  const written: Buffer[] = [];
  let exit!: (c: number | null) => void;
  const exited = new Promise<number | null>((r) => (exit = r));
  let killed = false;
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      if (chunk.includes(0x0a)) {
        setImmediate(() => {
          if (reply !== null) stream.push(reply);
          if (opts.close) {
            stream.push(null);
            exit(opts.code ?? 0);
          }
        });
      }
      cb();
    },
  });
  const cmd: CommandStream = { stream, stderr: () => opts.stderr ?? "", exited, kill: () => (killed = true) };
  return { cmd, written, killed: () => killed };
}

const handshake = (cmd: CommandStream, timeoutMs = 2000) =>
  muxConnect(cmd, {
    label: "guest m",
    port: 22,
    timeoutMs,
    explainEarlyEnd: (label, stderr) => new RelayError(`${label}: early end: ${stderr}`),
  });

test("sends CONNECT <port>\\n and, on OK, keeps the bytes after the OK line for the guest session", async () => {
  const p = peer("OK 1073741824\nSSH-2.0-guest\r\n");
  await handshake(p.cmd);
  assert.equal(Buffer.concat(p.written).toString(), "CONNECT 22\n");
  // The stream is left paused for the next reader, which resumes it.
  const first = await new Promise<Buffer>((r) => p.cmd.stream.once("data", r).resume());
  assert.equal(first.toString(), "SSH-2.0-guest\r\n");
  assert.equal(p.killed(), false);
});

test("a peer that closes without a reply refused the CONNECT", async () => {
  const p = peer(null, { close: true });
  await assert.rejects(handshake(p.cmd), (e: RelayError) => e.exitCode === 6 && /refused CONNECT 22/.test(e.message));
  assert.equal(p.killed(), true);
});

test("a reply other than OK <n> is refused, showing it escaped", async () => {
  const p = peer(Buffer.from("ERR\x01 nope\n"));
  await assert.rejects(handshake(p.cmd), (e: RelayError) => e.exitCode === 6 && e.message.includes(`answered "ERR\\x01 nope\\n"`));
});

test("an SSH banner instead of OK hints at unix/PATH", async () => {
  const p = peer("SSH-2.0-OpenSSH_9.2\r\n");
  await assert.rejects(handshake(p.cmd), (e: RelayError) => /unix\/PATH/.test(e.hint ?? ""));
});

test("a reply line longer than 128 bytes without a newline is garbage, not a wait", async () => {
  const p = peer("x".repeat(200));
  await assert.rejects(handshake(p.cmd), (e: RelayError) => /answered "x{60}" \(140 more bytes\)/.test(e.message));
});

test("no reply at all times out", async () => {
  const p = peer(null);
  await assert.rejects(handshake(p.cmd, 100), /no reply to CONNECT 22 within/);
});

test("a relay that ends with an error on stderr is explained by the socket's explainer", async () => {
  const p = peer(null, { close: true, stderr: "connect: No such file or directory", code: 1 });
  await assert.rejects(handshake(p.cmd), /early end: connect: No such file/);
});

test("parseMuxReply accepts only OK and a number", () => {
  assert.deepEqual(parseMuxReply("OK 1073741824"), { ok: true, hostPort: 1073741824 });
  for (const bad of ["OK", "OK x", "ok 5", " OK 5", "OK 5 extra", "ERR"]) assert.deepEqual(parseMuxReply(bad), { ok: false }, bad);
});

test("printable escapes control bytes, quotes and backslashes", () => {
  assert.equal(printable(Buffer.from('a"b\\c\r\n\x00\xff', "latin1")), '"a\\"b\\\\c\\r\\n\\x00\\xff"');
});
