// Runs ssh2vsock the way users do: the compiled binary by default, or another command line
// (`deno run -A src/main.ts`) through SSH2VSOCK_CMD, as a real child process.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The command that runs ssh2vsock: `dist/ssh2vsock` unless SSH2VSOCK_CMD says otherwise. */
export function cliCommand(): string[] {
  const custom = process.env.SSH2VSOCK_CMD;
  if (custom) return custom.split(" ").filter(Boolean);
  return [path.join(repoRoot, "dist/ssh2vsock")];
}

/** The command as one shell string, for ProxyCommand lines. */
export function cliShell(): string {
  return cliCommand().map((a) => `'${a}'`).join(" ");
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs ssh2vsock to completion (killed after `timeoutMs`). */
export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number; cwd?: string; wrap?: string[] } = {}): Promise<CliResult> {
  const [cmd, ...pre] = [...(opts.wrap ?? []), ...cliCommand()];
  const child = spawn(cmd, [...pre, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd ?? repoRoot, stdio: ["pipe", "pipe", "pipe"] });
  return collect(child, opts.input, opts.timeoutMs ?? 60_000);
}

/** Runs any command to completion (killed after `timeoutMs`). */
export function runCommand(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd ?? repoRoot, stdio: ["pipe", "pipe", "pipe"] });
  return collect(child, opts.input, opts.timeoutMs ?? 60_000);
}

function collect(child: ChildProcess, input: string | Buffer | undefined, timeoutMs: number): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  child.stdin!.on("error", () => {});
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

/** A long-running ssh2vsock (tunnel, run) whose stdout lines are read as they come. */
export interface RunningCli {
  child: ChildProcess;
  /** Resolves with the first `n` stdout lines, or rejects with stderr if it exits first. */
  lines(n: number, timeoutMs?: number): Promise<string[]>;
  stderr(): string;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], opts: { env?: Record<string, string>; wrap?: string[] } = {}): RunningCli {
  const [cmd, ...pre] = [...(opts.wrap ?? []), ...cliCommand()];
  const child = spawn(cmd, [...pre, ...args], { env: { ...process.env, ...opts.env }, cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiters: (() => void)[] = [];
  child.stdout!.on("data", (d) => {
    out += d;
    waiters.forEach((w) => w());
  });
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("close", (code, signal) => {
      waiters.forEach((w) => w());
      r({ code, signal });
    }),
  );
  return {
    child,
    stderr: () => err,
    exited,
    lines(n, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} line(s); stderr:\n${err}`)), timeoutMs);
        const check = () => {
          const lines = out.split("\n");
          if (lines.length > n) {
            clearTimeout(timer);
            resolve(lines.slice(0, n));
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            reject(new Error(`ssh2vsock exited (${child.exitCode ?? child.signalCode}) before ${n} line(s); stderr:\n${err}`));
          }
        };
        waiters.push(check);
        check();
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
