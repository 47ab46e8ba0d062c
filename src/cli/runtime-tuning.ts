// Re-executes the data-path commands once, under Bun on Linux, with two settings a process can
// only take at start-up: allocator and memcpy tuning that cut the tunnel's CPU per byte (BENCHMARKS.md).
import process from "node:process";

type Env = Record<string, string | undefined>;

/** The commands that move bulk data for a long time; the others keep their quick start. */
const DATA_COMMANDS = new Set(["tunnel", "proxy", "run"]);
/** Global options that take a value (main.ts): their value is not the command name. */
const VALUED_GLOBALS = new Set(["-c", "--config", "--hypervisor", "--log-format"]);
/** Set on the re-executed process only: the user's own values, to be put back (JSON). */
export const RESTORE_MARK = "SSH2VSOCK_RUNTIME_RESTORE";
export const OPT_OUT = "SSH2VSOCK_RUNTIME_TUNING";

const REP_MOVSB = "glibc.cpu.x86_rep_movsb_threshold";

/**
 * glibc's memmove uses `rep movsb` above 2 KiB on CPUs with ERMS/FSRM; on AMD EPYC that runs at
 * ~3 GB/s instead of ~50 GB/s when source and destination differ in alignment, which is the
 * common case for SSH payloads copied behind a 14-byte packet header. The vector loop has no
 * such cliff. mimalloc (Bun's allocator) returns freed pages to the kernel ~10 ms after the
 * garbage collector frees ArrayBuffers, so every packet buffer faulted in fresh pages (~100k
 * faults per 256 MiB); a 10 s delay lets a transfer reuse them and still gives memory back.
 */
export const TUNED: Readonly<Record<string, { value: string; merge?: (current: string) => string | undefined }>> = {
  GLIBC_TUNABLES: {
    value: `${REP_MOVSB}=4194304`,
    // Keep the user's tunables; add ours unless they chose this one themselves.
    merge: (current) => (current.includes(REP_MOVSB) ? undefined : `${current}:${REP_MOVSB}=4194304`),
  },
  MIMALLOC_PURGE_DELAY: { value: "10000" },
};

/** The command name in `argv` (without the runtime and script entries), or undefined. */
export function commandOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") return undefined;
    if (VALUED_GLOBALS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    return a;
  }
  return undefined;
}

/**
 * The environment to re-execute with, or undefined when this process should simply go on:
 * not a data command, opted out, already re-executed, or every setting already chosen by the user.
 */
export function tunedEnvironment(env: Env, args: readonly string[]): Env | undefined {
  if (env[RESTORE_MARK] !== undefined || env[OPT_OUT] === "off") return undefined;
  const command = commandOf(args);
  if (command === undefined || !DATA_COMMANDS.has(command)) return undefined;
  const next: Env = { ...env };
  const original: Record<string, string | null> = {};
  for (const [name, { value, merge }] of Object.entries(TUNED)) {
    const current = env[name];
    const wanted = current === undefined || current === "" ? value : merge?.(current);
    if (wanted === undefined) continue;
    original[name] = current ?? null;
    next[name] = wanted;
  }
  if (Object.keys(original).length === 0) return undefined;
  next[RESTORE_MARK] = JSON.stringify(original);
  return next;
}

/**
 * After the re-execution: puts the user's values back into `env` (children such as `run`'s
 * command must see the environment they were given, not ours). Returns whether it did.
 */
export function restoreEnvironment(env: Env): boolean {
  const mark = env[RESTORE_MARK];
  if (mark === undefined) return false;
  delete env[RESTORE_MARK];
  let original: Record<string, string | null>;
  try {
    original = JSON.parse(mark);
  } catch {
    return false;
  }
  for (const [name, value] of Object.entries(original)) {
    if (!(name in TUNED)) continue;
    if (value === null) delete env[name];
    else env[name] = value;
  }
  return true;
}

/**
 * Replaces this process (same PID, same file descriptors and argv) with itself under the tuned
 * environment when that helps, or restores the user's environment after such a replacement.
 * Under Deno, or where `execve` fails, it returns and the command runs untuned: the settings
 * are about speed, never about correctness.
 */
export function applyRuntimeTuning(): void {
  const env = process.env as Env;
  if (restoreEnvironment(env)) return;
  const execve = (process as unknown as { execve?: (file: string, args: string[], env: Env) => never }).execve;
  if (process.platform !== "linux" || typeof process.versions.bun !== "string" || typeof execve !== "function") return;
  // A compiled binary's argv[1] is its embedded entry (/$bunfs/…); from source it is the script.
  const compiled = process.argv[1]?.startsWith("/$bunfs/") ?? false;
  const args = process.argv.slice(2);
  const next = tunedEnvironment(env, args);
  if (!next) return;
  const argv = compiled ? [process.execPath, ...args] : [process.execPath, ...process.execArgv, process.argv[1], ...args];
  try {
    const strings = Object.fromEntries(Object.entries(next).filter((e): e is [string, string] => e[1] !== undefined));
    execve.call(process, process.execPath, argv, strings);
  } catch {
    // The binary moved or lost its exec bit since it started: run as we are.
  }
}
