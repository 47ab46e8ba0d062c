// Seeded fuzzing of what a relay says before the guest's SSH: the hybrid vsock reply (`OK <n>`)
// and the first-bytes greeting. Accepted exactly when the reply is right, every later byte kept;
// otherwise a RelayError (exit 6) whose message shows the peer's bytes with controls escaped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import { RelayError } from "../../src/core/errors.ts";
import { muxConnect } from "../../src/core/vsock/vsock-mux.ts";
import { awaitGreeting } from "../../src/core/vsock/greeting.ts";
import { explainSocatFailure } from "../../src/core/vsock/socat-errors.ts";
import { explainUnixRelay } from "../../src/core/vsock/unix-errors.ts";
import type { CommandStream } from "../../src/core/vsock/command-stream.ts";
import { assertTypedError, FUZZ_SEED, fuzz, hasControl, mutateBytesTimes, show, type Rand } from "./_fuzz.ts";

interface PeerScript {
  /** What the peer sends once it has read the CONNECT line (or at once, for the greeting). */
  chunks: Buffer[];
  /** Whether the stream ends after the chunks (else the reader's timeout decides). */
  end: boolean;
  stderr: string;
  code: number | null;
}

/** A command stream that plays `script`; `afterLine` waits for the handshake's CONNECT line. */
function scriptedStream(script: PeerScript, afterLine: boolean): { cmd: CommandStream; killed: () => boolean } {
  let killed = false;
  let exit!: (c: number | null) => void;
  const exited = new Promise<number | null>((r) => (exit = r));
  const play = () =>
    setImmediate(() => {
      for (const c of script.chunks) stream.push(c);
      if (script.end) {
        stream.push(null);
        exit(script.code);
      }
    });
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      if (afterLine && chunk.includes(0x0a)) play();
      cb();
    },
  });
  if (!afterLine) play();
  return { cmd: { stream, stderr: () => script.stderr, exited, kill: () => (killed = true) }, killed: () => killed };
}

/** Everything the stream delivers from now until it ends. */
function drain(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    stream.on("data", (d: Buffer) => got.push(d));
    stream.once("end", () => resolve(Buffer.concat(got)));
    stream.resume();
  });
}

function chunked(rand: Rand, data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let rest = data;
  while (rest.length > 1 && rand.chance(0.4)) {
    const cut = 1 + rand.int(rest.length - 1);
    out.push(rest.subarray(0, cut));
    rest = rest.subarray(cut);
  }
  if (rest.length > 0) out.push(rest);
  return out;
}

const REPLIES = ["OK 1073741824\nSSH-2.0-guest\r\n", "OK 0\r\n", "OK 4294967295\nSSH-2.0-OpenSSH_9.2\r\n\0\0\0\x14", "ERR\n", "SSH-2.0-direct\r\n"].map((s) => Buffer.from(s, "latin1"));
const STDERR = ["", "2026/12/01 socat[7] E connect(5, AF=1 \"/run/x.vsock\", 14): No such file or directory\n", "E connect(): Connection refused\x1b[2J\x07\n", "sh: 1: socat: not found\n"];

function script(rand: Rand): PeerScript {
  const base = rand.pick(REPLIES);
  const data = rand.chance(0.15) ? rand.bytes(rand.int(300)) : rand.chance(0.3) ? base : mutateBytesTimes(rand, base, REPLIES);
  return {
    chunks: chunked(rand, data),
    // A few streams stay open: the short timeout decides them.
    end: rand.chance(0.97),
    stderr: rand.chance(0.2) ? rand.text(60) : rand.pick(STDERR),
    code: rand.pick([0, 1, 255, null]),
  };
}

/** Rejections: typed, exit 6, one line with the peer's bytes escaped. */
function checkRefusal(error: unknown, context: string): void {
  assertTypedError(error, context, [RelayError]);
  assert.equal(error.exitCode, 6, context);
  assert.ok(!hasControl(error.message), `${context}: raw control characters in ${show(error.message)}`);
  if (error.hint) assert.ok(!hasControl(error.hint), `${context}: raw control characters in the hint ${show(error.hint)}`);
}

test(`hybrid vsock replies are accepted exactly when the first line is "OK <n>", keeping every later byte (seed ${FUZZ_SEED + 50})`, async () => {
  let accepted = 0;
  await fuzz("hybrid vsock reply", { seed: FUZZ_SEED + 50, count: 3000, note: () => `${accepted} accepted` }, (rand) => ({ ...script(rand), explain: rand.pick(["socat", "unix"]) }), async (s, context) => {
    const sent = Buffer.concat(s.chunks);
    const nl = sent.indexOf(0x0a);
    const line = nl === -1 ? "" : sent.subarray(0, nl).toString("latin1").replace(/\r$/, "");
    const shouldAccept = nl !== -1 && /^OK [0-9]{1,10}$/.test(line);
    const peer = scriptedStream(s, true);
    try {
      await muxConnect(peer.cmd, {
        label: "guest fuzz (hybrid vsock /run/fc.vsock port 22)",
        port: 22,
        timeoutMs: 25,
        explainEarlyEnd: s.explain === "socat" ? explainSocatFailure : explainUnixRelay("/run/fc.vsock"),
      });
    } catch (error) {
      checkRefusal(error, context);
      assert.ok(!shouldAccept || !s.end, `${context}: a correct reply was refused: ${(error as Error).message}`);
      assert.ok(peer.killed(), `${context}: refused without ending the relay`);
      return;
    }
    assert.ok(shouldAccept, `${context}: accepted the reply ${show(line)}`);
    accepted++;
    if (s.end) assert.deepEqual(await drain(peer.cmd.stream), sent.subarray(nl + 1), `${context}: the guest's bytes after OK changed`);
  });
  assert.ok(accepted > 0, "no reply was accepted");
});

test(`the first bytes of a relay are kept for the guest session, and a relay that ends silent is exit 6 (seed ${FUZZ_SEED + 51})`, async () => {
  await fuzz("relay greeting", { seed: FUZZ_SEED + 51, count: 3000 }, (rand) => {
    const s = script(rand);
    return rand.chance(0.3) ? { ...s, chunks: [] } : s;
  }, async (s, context) => {
    const sent = Buffer.concat(s.chunks);
    const peer = scriptedStream(s, false);
    try {
      await awaitGreeting(peer.cmd, "guest fuzz (vsock CID 3 port 22)", 25);
    } catch (error) {
      checkRefusal(error, context);
      assert.equal(sent.length, 0, `${context}: refused a relay that sent ${sent.length} bytes`);
      return;
    }
    assert.ok(sent.length > 0, `${context}: accepted a relay that sent nothing`);
    if (s.end) assert.deepEqual(await drain(peer.cmd.stream), sent, `${context}: the guest's first bytes changed`);
  });
});
