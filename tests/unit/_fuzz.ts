// Shared pieces of the parser fuzz tests: a small seeded PRNG, mutators that damage real valid
// inputs (bit flips, truncations, splices, separators, control characters, huge repeats), and a
// bounded loop that checks every input, times the slowest and reports inputs tried and time taken.
// fuzz-inspector.test.ts feeds the handshake inspector crafted streams; handshake-fuzz.test.ts, lab recordings.
import assert from "node:assert/strict";
import { Ssh2vsockError } from "../../src/core/errors.ts";
import { mulberry32 } from "./_handshake-wire.ts";

/**
 * Seed of every fuzz test: fixed so `npm test` is reproducible; SSH2VSOCK_FUZZ_SEED=n explores
 * other inputs and replays a failure (each test name and failure message carries the seed).
 */
export const FUZZ_SEED = seedFromEnv(process.env.SSH2VSOCK_FUZZ_SEED);

function seedFromEnv(value: string | undefined): number {
  if (value === undefined || value === "") return 20261201;
  // A mistyped seed must not silently fall back to the default (NaN seeds every Rand to 0).
  if (!/^[0-9]{1,10}$/.test(value)) throw new Error(`SSH2VSOCK_FUZZ_SEED must be a decimal integer, not ${JSON.stringify(value)}`);
  return Number(value) >>> 0;
}

/** A deterministic source of randomness (mulberry32) with the helpers the fuzzers need. */
export class Rand {
  /** Uniform in [0, 1). */
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** Random text over `alphabet` (printable ASCII plus a few controls by default). */
  text(maxLength: number, alphabet = DEFAULT_ALPHABET): string {
    let out = "";
    for (let n = this.int(maxLength + 1); n > 0; n--) out += alphabet[this.int(alphabet.length)];
    return out;
  }
}

const DEFAULT_ALPHABET =
  " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\t\n\r\0\x1b\x7f";

/** Characters that separate or end things in the formats under test, and controls a terminal obeys. */
export const SEPARATORS = [" ", "\t", "\n", "\r\n", "\r", ",", ":", "@", "/", "%", "|", "[", "]", "!", "*", "?", "#", "=", '"', "'", "\\", ".", "\0", "\x1b[2J", "\x7f", "\u00e9", "\u2028", "\ufeff"];

export interface MutateOptions {
  /** Most copies a huge repeat inserts (default 20 000). */
  maxRepeat?: number;
}

/**
 * One random damage to `text`; `pool` supplies other valid inputs to splice from.
 * @example mutateText(new Rand(1), "web1 ssh-ed25519 AAAA…", corpus)
 */
export function mutateText(rand: Rand, text: string, pool: readonly string[] = [], opts: MutateOptions = {}): string {
  const at = rand.int(text.length + 1);
  const span = 1 + rand.int(Math.max(1, Math.min(16, text.length)));
  switch (rand.int(10)) {
    case 0: {
      if (text.length === 0) return rand.pick(SEPARATORS);
      const i = Math.min(at, text.length - 1);
      const flipped = String.fromCharCode(text.charCodeAt(i) ^ (1 << rand.int(7)));
      return text.slice(0, i) + flipped + text.slice(i + 1);
    }
    case 1:
      return text.slice(0, at);
    case 2:
      return text.slice(0, at) + text.slice(at + span);
    case 3:
      return text.slice(0, at) + rand.pick(SEPARATORS) + text.slice(at);
    case 4: {
      // A huge repeat of a piece of the input itself, or of a separator.
      const piece = rand.chance(0.5) ? text.slice(at, at + span) || "a" : rand.pick(SEPARATORS);
      const most = opts.maxRepeat ?? 20_000;
      return text.slice(0, at) + piece.repeat(Math.ceil(most / 20) + rand.int(most)) + text.slice(at);
    }
    case 5: {
      const other = pool.length > 0 ? rand.pick(pool) : text;
      const from = rand.int(other.length + 1);
      return text.slice(0, at) + other.slice(from, from + rand.int(other.length + 1)) + text.slice(at);
    }
    case 6:
      return text.slice(0, at) + text.slice(at, at + span) + text.slice(at);
    case 7:
      return text.slice(0, at) + rand.text(8) + text.slice(at + rand.int(span));
    case 8:
      return rand.chance(0.5) ? text.toUpperCase() : text.replace(/\n/g, "\r\n");
    default: {
      const other = pool.length > 0 ? rand.pick(pool) : text;
      return text.slice(0, at) + other.slice(rand.int(other.length + 1));
    }
  }
}

/** Applies 1 … `max` mutations in a row. */
export function mutateTextTimes(rand: Rand, text: string, pool: readonly string[] = [], max = 3, opts: MutateOptions = {}): string {
  let out = text;
  for (let n = 1 + rand.int(max); n > 0; n--) out = mutateText(rand, out, pool, opts);
  return out;
}

/**
 * One random damage to binary data: bit flips, truncation, insertion, deletion, splice, repeats.
 * @example mutateBytes(new Rand(1), dnsAnswer, otherAnswers)
 */
export function mutateBytes(rand: Rand, data: Buffer, pool: readonly Buffer[] = []): Buffer {
  const at = rand.int(data.length + 1);
  const span = 1 + rand.int(Math.max(1, Math.min(16, data.length)));
  switch (rand.int(8)) {
    case 0:
    case 1: {
      if (data.length === 0) return rand.bytes(1);
      const out = Buffer.from(data);
      const i = Math.min(at, data.length - 1);
      out[i] = out[i]! ^ (1 << rand.int(8));
      return out;
    }
    case 2:
      return data.subarray(0, at);
    case 3:
      return Buffer.concat([data.subarray(0, at), data.subarray(at + span)]);
    case 4:
      return Buffer.concat([data.subarray(0, at), rand.bytes(span), data.subarray(at)]);
    case 5: {
      const other = pool.length > 0 ? rand.pick(pool) : data;
      return Buffer.concat([data.subarray(0, at), other.subarray(rand.int(other.length + 1))]);
    }
    case 6: {
      const out = Buffer.from(data);
      // Set a byte to an edge value (0, 0xff, 0xc0: DNS pointer, 0x3f: max label).
      if (out.length > 0) out[Math.min(at, out.length - 1)] = rand.pick([0, 0xff, 0xc0, 0x3f, 0x80, 0x7f]);
      return out;
    }
    default: {
      const piece = data.subarray(at, at + span);
      return Buffer.concat([data.subarray(0, at), ...Array<Buffer>(1 + rand.int(200)).fill(piece.length ? piece : rand.bytes(1)), data.subarray(at)]);
    }
  }
}

/** Applies 1 … `max` byte mutations in a row. */
export function mutateBytesTimes(rand: Rand, data: Buffer, pool: readonly Buffer[] = [], max = 3): Buffer {
  let out = data;
  for (let n = 1 + rand.int(max); n > 0; n--) out = mutateBytes(rand, out, pool);
  return out;
}

/**
 * Asserts that `error` is one of ssh2vsock's typed errors (optionally of one of `classes`),
 * with a code, an exit code and a one-line message; `context` names the input in the failure.
 */
export function assertTypedError<T extends Ssh2vsockError = Ssh2vsockError>(
  error: unknown,
  context: string,
  classes: ReadonlyArray<abstract new (...a: never[]) => T> = [],
): asserts error is T {
  if (!(error instanceof Ssh2vsockError)) {
    assert.fail(`${context}: threw an untyped ${(error as Error)?.constructor?.name ?? typeof error}: ${(error as Error)?.stack ?? String(error)}`);
  }
  if (classes.length > 0 && !classes.some((c) => error instanceof c)) {
    assert.fail(`${context}: threw ${error.name}, expected ${classes.map((c) => c.name).join(" or ")}: ${error.message}`);
  }
  assert.ok(Number.isInteger(error.exitCode) && error.exitCode > 0, `${context}: exit code ${error.exitCode}`);
  assert.ok(typeof error.code === "string" && error.code.length > 0, `${context}: no error code`);
  assert.ok(error.message.length > 0, `${context}: empty message`);
}

/** True when `text` holds a character a terminal would act on (C0, DEL, C1). */
export function hasControl(text: string): boolean {
  return /[\x00-\x1f\x7f-\x9f]/.test(text);
}

/** A short, safe rendering of a fuzz input for failure messages. */
export function show(input: unknown): string {
  // Buffers (alone or inside an object) as hex: JSON would spell them as arrays of numbers.
  const hex = (_key: string, v: unknown) =>
    v && typeof v === "object" && (v as { type?: unknown }).type === "Buffer" && Array.isArray((v as { data?: unknown }).data)
      ? Buffer.from((v as { data: number[] }).data).toString("hex")
      : v;
  const text = typeof input === "string" ? input : Buffer.isBuffer(input) ? input.toString("hex") : JSON.stringify(input, hex) ?? String(input);
  const shown = JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…(${text.length} chars)` : text);
  return shown;
}

export interface FuzzReport {
  inputs: number;
  totalMs: number;
  slowestMs: number;
  /** Highest resident set size above the one at the start, sampled every few inputs. */
  peakGrowthMb: number;
}

/** No single input may take this long: a sanity limit against hangs and blow-ups, not a speed target. */
export const SLOWEST_INPUT_LIMIT_MS = 1000;
/** Nor may memory grow this much during one run: the inputs are at most a few hundred KB each. */
export const MEMORY_GROWTH_LIMIT_MB = 512;
const MEMORY_SAMPLE_EVERY = 16;

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

async function timed(run: () => unknown): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

/**
 * Runs `check` on `count` generated inputs, each timed; fails with the seed, case number and
 * input when a check fails or one input exceeds the sanity limits. Logs one line,
 * `fuzz NAME: N inputs in T ms (…)`, that the suite's totals are summed from; `note` adds to it.
 */
export async function fuzz<T>(
  name: string,
  opts: { seed: number; count: number; note?: () => string },
  generate: (rand: Rand, n: number) => T,
  check: (input: T, context: string) => unknown,
): Promise<FuzzReport> {
  const rand = new Rand(opts.seed);
  let slowestMs = 0;
  let slowest: T | undefined;
  const baseMb = rssMb();
  let peakGrowthMb = 0;
  let biggest: T | undefined;
  const started = performance.now();
  for (let n = 0; n < opts.count; n++) {
    const input = generate(rand, n);
    const context = `${name}, seed ${opts.seed} (SSH2VSOCK_FUZZ_SEED), case ${n}, input ${show(input)}`;
    let took = await timed(() => check(input, context));
    // A pause of the machine or the collector is not a hang: only an input that is slow twice counts.
    if (took >= SLOWEST_INPUT_LIMIT_MS) took = Math.min(took, await timed(() => check(input, context)));
    if (took > slowestMs) [slowestMs, slowest] = [took, input];
    if (n % MEMORY_SAMPLE_EVERY === 0 || n === opts.count - 1) {
      const growth = rssMb() - baseMb;
      if (growth > peakGrowthMb) [peakGrowthMb, biggest] = [growth, input];
    }
  }
  const totalMs = performance.now() - started;
  const note = opts.note ? `, ${opts.note()}` : "";
  console.log(
    `fuzz ${name}: ${opts.count} inputs in ${totalMs.toFixed(0)} ms (seed ${opts.seed}, slowest input ${slowestMs.toFixed(1)} ms, memory +${peakGrowthMb.toFixed(0)} MB${note})`,
  );
  assert.ok(slowestMs < SLOWEST_INPUT_LIMIT_MS, `${name}, seed ${opts.seed}: one input took ${slowestMs.toFixed(0)} ms: ${show(slowest)}`);
  assert.ok(peakGrowthMb < MEMORY_GROWTH_LIMIT_MB, `${name}, seed ${opts.seed}: memory grew by ${peakGrowthMb.toFixed(0)} MB, near input ${show(biggest)}`);
  return { inputs: opts.count, totalMs, slowestMs, peakGrowthMb };
}
