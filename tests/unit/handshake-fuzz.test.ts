// Seeded fuzzing of the handshake inspector with corrupted real recordings and random streams: it
// never throws, never verifies an untrusted key, and never holds more than a packet and a chunk.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { MAX_PACKET_BYTES } from "../../src/core/handshake/framer.ts";
import { HandshakeLab } from "./_handshake-lab.ts";
import { kindOf, recordSet, type Recording } from "./_handshake-recorder.ts";
import { describe as show, knownHostsLine, policyFrom, replay, type Replay } from "./_handshake-replay.ts";
import { findReply, mulberry32, type Chunk } from "./_handshake-wire.ts";
import { FUZZ_SEED } from "./_fuzz.ts";

// The suite's fixed fuzz seed, so every run of `npm test` tries the same inputs;
// SSH2VSOCK_FUZZ_SEED=n explores others and replays a failure (the seed is in every test name).
const SEED = FUZZ_SEED;
const lab = new HandshakeLab();
after(() => lab.stop());
const recordings = await recordSet(lab, {
  openssh: [
    { kex: "curve25519-sha256", hostKeyAlgorithms: "ssh-ed25519" },
    { kex: "diffie-hellman-group-exchange-sha256", hostKeyAlgorithms: "rsa-sha2-512" },
    { kex: "sntrup761x25519-sha512@openssh.com", hostKeyAlgorithms: "ecdsa-sha2-nistp256" },
  ],
  dropbearServer: [{ kex: "curve25519-sha256", hostKeyAlgorithms: "ssh-ed25519" }],
  dbclient: true,
});
const trusted = await Promise.all(recordings.map((r) => policyFrom([knownHostsLine(r.serverKeys[kindOf(r.hostKeyAlgorithm)].line)])));
const untrusted = await Promise.all(recordings.map((r) => policyFrom([knownHostsLine(lab.otherKeys[kindOf(r.hostKeyAlgorithm)].line)])));

type Rand = () => number;
const int = (rand: Rand, n: number) => Math.floor(rand() * n);
function bytes(rand: Rand, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(rand, 256);
  return b;
}

/** One random corruption of a chunk list; `allowed(chunkIndex, offsetInChunk)` limits where bytes may change. */
function corrupt(rand: Rand, chunks: Chunk[], allowed: (i: number, at: number) => boolean = () => true): [string, Chunk[]] {
  const out = chunks.map((c) => ({ ...c }));
  if (out.length === 0) return ["nothing", out];
  const i = int(rand, out.length);
  const c = out[i]!;
  const at = int(rand, c.data.length);
  const edit = (what: string, data: Buffer): [string, Chunk[]] => {
    if (!allowed(i, at)) return ["nothing", out];
    out[i] = { from: c.from, data };
    return [`${what} in chunk ${i} at ${at}`, out];
  };
  switch (int(rand, 8)) {
    case 0: {
      const flipped = Buffer.from(c.data);
      flipped[at] = flipped[at]! ^ (1 + int(rand, 255));
      return edit("flip", flipped);
    }
    case 1:
      return edit("insert", Buffer.concat([c.data.subarray(0, at), bytes(rand, 1 + int(rand, 8)), c.data.subarray(at)]));
    case 2:
      return edit("delete", Buffer.concat([c.data.subarray(0, at), c.data.subarray(at + 1 + int(rand, 8))]));
    case 3:
      return edit("truncate", c.data.subarray(0, at));
    case 4:
      out.splice(i, 0, { ...c });
      return [`duplicate chunk ${i}`, out];
    case 5:
      return [`drop chunks from ${i}`, out.slice(0, i)];
    case 6: {
      const j = Math.min(i + 1, out.length - 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
      return [`swap chunks ${i} and ${j}`, out];
    }
    default:
      return ["rechunk", rechunk(rand, out)];
  }
}

/** Random cut points and merges within each direction, the interleaving otherwise kept. */
function rechunk(rand: Rand, chunks: Chunk[]): Chunk[] {
  const out: Chunk[] = [];
  for (const c of chunks) {
    let rest = c.data;
    while (rest.length > 1 && rand() < 0.3) {
      const cut = 1 + int(rand, rest.length - 1);
      out.push({ from: c.from, data: rest.subarray(0, cut) });
      rest = rest.subarray(cut);
    }
    const last = out[out.length - 1];
    if (last && last.from === c.from && rand() < 0.3) out[out.length - 1] = { from: c.from, data: Buffer.concat([last.data, rest]) };
    else out.push({ from: c.from, data: rest });
  }
  return out;
}

/** Replays and checks what must hold for any input: no throw, at most one decision, bounded buffering. */
function checkedReplay(trust: Parameters<typeof replay>[0], chunks: Chunk[], seed: number, what: string): Replay {
  let r: Replay;
  try {
    r = replay(trust, chunks, {
      end: true,
      // Once decided, nothing more is read: the bound is on what an undecided inspector holds.
      onStep: (buffered, chunk, undecided) => {
        if (undecided && buffered > MAX_PACKET_BYTES + chunk.length) throw new Error(`buffered ${buffered} bytes after a ${chunk.length}-byte chunk`);
      },
    });
  } catch (e) {
    assert.fail(`seed ${seed}, ${what}: ${(e as Error).message} (chunks ${chunks.map((c) => c.from[0] + c.data.length).join(" ")})`);
  }
  if (r.decisions > 1) assert.fail(`seed ${seed}, ${what}: ${r.decisions} decisions`);
  if (r.outcome?.kind !== "verified" && r.outcome?.kind !== "refused") assert.fail(`seed ${seed}, ${what}: no outcome after abort`);
  return r;
}

test(`corrupted recordings with an untrusted server key are never verified (seed ${SEED})`, () => {
  const rand = mulberry32(SEED);
  for (let n = 0; n < 2500; n++) {
    const k = int(rand, recordings.length);
    let chunks = recordings[k]!.chunks;
    const steps: string[] = [];
    for (let m = 1 + int(rand, 3); m > 0; m--) {
      const [what, next] = corrupt(rand, chunks);
      steps.push(what);
      chunks = next;
    }
    const what = `case ${n} (${recordings[k]!.name}: ${steps.join(", ")})`;
    const r = checkedReplay(untrusted[k]!, chunks, SEED, what);
    if (r.outcome?.kind === "verified") assert.fail(`seed ${SEED}, ${what}: ${show(r.outcome)}`);
  }
});

/** Chunk index and offset of the first K_S byte, in the recorded order. */
function ksPosition(r: Recording): [number, number] {
  const ks = findReply(r).ksStart;
  let seen = 0;
  for (const [i, c] of r.chunks.entries()) {
    if (c.from !== "server") continue;
    if (ks < seen + c.data.length) return [i, ks - seen];
    seen += c.data.length;
  }
  throw new Error("K_S not found");
}

test(`corruption anywhere before K_S of a trusted key verifies that same K_S or refuses (seed ${SEED + 1})`, () => {
  const rand = mulberry32(SEED + 1);
  let verified = 0;
  let refused = 0;
  for (let n = 0; n < 2500; n++) {
    const k = int(rand, recordings.length);
    const r = recordings[k]!;
    const [ksChunk, ksOffset] = ksPosition(r);
    // Only byte edits (no reordering): the reply and everything after it stay as recorded.
    let kind: string;
    let chunks: Chunk[];
    do [kind, chunks] = corrupt(rand, r.chunks, (i, at) => i < ksChunk || (i === ksChunk && at < ksOffset));
    while (!/^(flip|insert|delete)/.test(kind));
    const what = `case ${n} (${r.name}: ${kind})`;
    const got = checkedReplay(trusted[k]!, chunks, SEED + 1, what);
    if (got.outcome?.kind === "verified") {
      verified++;
      if (!got.outcome.hostKey.blob.equals(findReply(r).ks)) assert.fail(`seed ${SEED + 1}, ${what}: verified another K_S`);
    } else refused++;
  }
  // Both answers must occur, or the corruptions missed what they were meant to hit.
  assert.ok(verified > 0 && refused > 0, `verified ${verified}, refused ${refused}`);
});

test(`random byte streams on both sides are never verified, even with trust in the real key (seed ${SEED + 2})`, () => {
  const rand = mulberry32(SEED + 2);
  for (let n = 0; n < 1500; n++) {
    const k = int(rand, recordings.length);
    const chunks: Chunk[] = [];
    // Half the cases start with the real identification lines, so the randomness reaches the packet parser.
    if (n % 2 === 0) {
      const real = recordings[k]!.chunks;
      for (const from of ["server", "client"] as const) chunks.push({ from, data: real.find((c) => c.from === from)!.data });
    }
    for (let m = int(rand, 30); m > 0; m--) chunks.push({ from: rand() < 0.5 ? "client" : "server", data: bytes(rand, 1 + int(rand, rand() < 0.1 ? 40_000 : 300)) });
    const r = checkedReplay(trusted[k]!, chunks, SEED + 2, `case ${n}`);
    if (r.outcome?.kind === "verified") assert.fail(`seed ${SEED + 2}, case ${n}: ${show(r.outcome)}`);
  }
});
