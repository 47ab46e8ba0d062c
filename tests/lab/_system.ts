// Host plumbing for the lab: locating the Debian tools it needs, running them, and walking
// /proc so the lab can end exactly the processes it started (and their descendants).

import { spawn } from "node:child_process";
import { accessSync, constants, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { createServer } from "node:net";

/** The tools the lab runs, as absolute paths. */
export interface LabTools {
  sshd: string;
  sshKeygen: string;
  socat: string;
  ip: string;
  openssl: string;
  useradd: string;
  getent: string;
  virsh: string;
}

const required: Array<[keyof LabTools, string, string]> = [
  ["sshd", "sshd", "openssh-server"],
  ["sshKeygen", "ssh-keygen", "openssh-client"],
  ["socat", "socat", "socat"],
  ["ip", "ip", "iproute2"],
  ["openssl", "openssl", "openssl"],
  ["useradd", "useradd", "passwd"],
  ["getent", "getent", "libc-bin"],
  ["virsh", "virsh", "libvirt-clients"],
];

/** Absolute path of `name` on PATH or in the sbin directories root's PATH may lack. */
export function which(name: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const dir of [...dirs, "/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * Fails loudly (never skips) when the lab cannot run here: not root, or a tool missing.
 * The message names the Debian package to install.
 */
export function requireLabTools(): LabTools {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    throw new Error(
      "tests/lab needs root: it creates network namespaces and starts sshd (run the tests as root)",
    );
  }
  const found: Partial<LabTools> = {};
  const missing: string[] = [];
  for (const [key, name, pkg] of required) {
    const path = which(name);
    if (path) found[key] = path;
    else missing.push(`${name} (Debian package ${pkg})`);
  }
  if (missing.length > 0) {
    throw new Error(`tests/lab: missing ${missing.join(", ")}; run scripts/setup`);
  }
  return found as LabTools;
}

/** The non-OpenSSH guest servers, needed only by the variants that run them. */
export interface ServerTools {
  tinysshd?: string;
  tinysshdMakekey?: string;
  tinysshdPrintkey?: string;
  dropbear?: string;
  dropbearkey?: string;
}

const serverPrograms: Record<"tinysshd" | "dropbear", Array<[keyof ServerTools, string, string]>> = {
  tinysshd: [
    ["tinysshd", "tinysshd", "tinysshd"],
    ["tinysshdMakekey", "tinysshd-makekey", "tinysshd"],
    ["tinysshdPrintkey", "tinysshd-printkey", "tinysshd"],
  ],
  dropbear: [
    ["dropbear", "dropbear", "dropbear-bin"],
    ["dropbearkey", "dropbearkey", "dropbear-bin"],
  ],
};

/** Like requireLabTools for the servers `servers` name: a variant that needs a missing one fails loudly. */
export function requireServerTools(servers: Iterable<string>): ServerTools {
  const found: ServerTools = {};
  const missing: string[] = [];
  for (const server of new Set(servers)) {
    for (const [key, name, pkg] of serverPrograms[server as keyof typeof serverPrograms] ?? []) {
      const path = which(name);
      if (path) found[key] = path;
      else missing.push(`${name} (Debian package ${pkg})`);
    }
  }
  if (missing.length > 0) throw new Error(`tests/lab: missing ${missing.join(", ")}; run scripts/setup`);
  return found;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the child's stdin: the only way secrets reach a child (never argv). */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

/** Runs a command to completion; throws with its stderr when it fails (argv holds no secrets). */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: opts.env ?? process.env,
      timeout: opts.timeoutMs ?? 30_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const result = { code, signal, stdout, stderr };
      if (code === 0 || opts.allowFailure) resolve(result);
      else {
        const why = signal ? `signal ${signal}` : `exit ${code}`;
        reject(new Error(`${cmd} ${args.join(" ")} failed (${why}): ${stderr.trim()}`));
      }
    });
    child.stdin.on("error", () => {}); // a child that exits early must not crash us with EPIPE
    child.stdin.end(opts.input ?? "");
  });
}

/** Parent PID of `pid` from /proc, or undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (children, grandchildren, …), found through /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** True while `pid` runs; a zombie (exited, not yet reaped by whoever adopted it) is not alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Sends `signal` to each PID, ignoring those already gone. */
export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Ends `pid` and every process it forked (walked through /proc): SIGTERM, SIGKILL after 3 s,
 * and waits for `exited` and for the whole tree, since sessions may outlive their parent briefly.
 */
export async function stopTree(pid: number, exited: Promise<void>): Promise<void> {
  const pids = [pid, ...descendants(pid)];
  signalAll(pids, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 3000))),
  ]);
  clearTimeout(timer);
  if (!done) signalAll(pids, "SIGKILL");
  await exited;
  for (let i = 0; i < 100 && pids.some(alive); i++) {
    if (i === 50) signalAll(pids.filter(alive), "SIGKILL");
    await sleep(20);
  }
}

/** `net:[INODE]`, as /proc/PID/ns/net links to it, of the named namespace; undefined when gone. */
export function netnsLink(netns: string): string | undefined {
  try {
    return `net:[${statSync(`/run/netns/${netns}`).ino}]`;
  } catch {
    return undefined;
  }
}

/**
 * PIDs of the processes inside the named namespaces. A lab's namespaces are its own, so anything
 * found there is the lab's, even a session whose server exited first and left it to init.
 */
export function pidsInNetns(names: string[]): number[] {
  const links = new Set(names.map(netnsLink).filter((l): l is string => l !== undefined));
  if (links.size === 0) return [];
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return links.has(readlinkSync(`/proc/${e}/ns/net`));
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the caller retries if it is taken). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Promise.all that waits for every task before rejecting, so a failed start never races the
 * cleanup of what the other tasks are still creating.
 */
export async function settleAll<T extends readonly unknown[]>(tasks: [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T>;
export async function settleAll<T>(tasks: Promise<T>[]): Promise<T[]>;
export async function settleAll(tasks: Promise<unknown>[]): Promise<unknown[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value);
}

/** Runs `jobs` with at most `width` at once (servers and their clients share two cores). */
export async function inBatches<T>(jobs: (() => Promise<T>)[], width = 4): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

/** Size of a (log) file, 0 when it does not exist yet. */
export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** A (log) file's text from `offset` on, "" when it does not exist. */
export function readFrom(path: string, offset: number): string {
  try {
    return readFileSync(path).subarray(offset).toString("utf8");
  } catch {
    return "";
  }
}
