// Measurement helpers for scripts/bench.ts: timed shell commands, medians, peak RSS from /proc,
// waiting for a listening port or a first byte, and the OpenSSH client configuration of the lab.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import type { Lab } from "../tests/lab/lab.ts";
import { descendants, sleep } from "../tests/lab/_system.ts";

/** The cipher forced on every OpenSSH hop; ssh2 must negotiate it too (checked by the bench). */
export const CIPHER = "aes128-gcm@openssh.com";

export interface ShResult {
  code: number | null;
  ms: number;
  stdout: string;
  stderr: string;
}

/** Runs `bash -c cmd`, timing it from spawn to exit. */
export function sh(cmd: string, timeoutMs = 300_000): Promise<ShResult> {
  const t0 = performance.now();
  const child = spawn("bash", ["-c", cmd], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, ms: performance.now() - t0, stdout, stderr });
    }),
  );
}

/** Like sh, but a non-zero exit throws with the command's stderr. */
export async function shOk(cmd: string, timeoutMs?: number): Promise<ShResult> {
  const r = await sh(cmd, timeoutMs);
  if (r.code !== 0) throw new Error(`bench: \`${cmd}\` exited ${r.code}: ${r.stderr.trim().slice(-800)}`);
  return r;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Peak resident set size (VmHWM) of a live process, in MiB. */
export function peakRssMiB(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Resident anonymous and file-backed memory (RssAnon, RssFile) of a live process, in MiB. */
export function rssBreakdownMiB(pid: number): { anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { anon: kb("RssAnon") / 1024, file: kb("RssFile") / 1024 };
}

/**
 * Drops `file` from the page cache (GNU dd's documented `iflag=nocache count=0`). Peak RSS
 * counts the binary's mapped pages, and how many get mapped depends on how its pages sit in the
 * cache (a freshly written copy maps ~3 MiB more): measuring from an uncached binary is repeatable.
 */
export async function dropFromPageCache(file: string): Promise<void> {
  await shOk(`dd if='${file}' iflag=nocache count=0 status=none`);
}

/** Current resident set size (VmRSS) of a live process, in MiB. */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** CPU seconds of a process and all its descendants (ssh -L and the ProxyCommand ssh it runs). */
export function treeCpuSeconds(pid: number): number {
  return [pid, ...descendants(pid)].reduce((sum, p) => {
    try {
      return sum + cpuSeconds(p);
    } catch {
      return sum; // Exited while we counted.
    }
  }, 0);
}

/** The lab's sshds (hypervisor, guests and their sessions): this process started the lab. */
export function labSshds(): number[] {
  return descendants(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sshd";
    } catch {
      return false;
    }
  });
}

export { sleep };

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`bench: nothing listens on 127.0.0.1:${port}`);
    await sleep(everyMs);
  }
}

/** A long-running child whose stdout lines (and, optionally, first byte) are awaited. */
export interface Running {
  child: ChildProcess;
  startedAt: number;
  /** The first `n` stdout lines. */
  lines(n: number, timeoutMs?: number): Promise<string[]>;
  stderrText(): string;
  stop(): Promise<void>;
}

export function startProcess(cmd: string, args: string[], env: Record<string, string> = {}): Running {
  const startedAt = performance.now();
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  let err = "";
  const waiters: Array<() => void> = [];
  child.stdout!.on("data", (d) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    startedAt,
    lines(n, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`bench: ${cmd} printed no ready line: ${err.slice(-800)}`)), timeoutMs);
        const check = () => {
          const ls = out.split("\n");
          if (ls.length > n) {
            clearTimeout(timer);
            resolve(ls.slice(0, n));
          } else waiters.push(check);
        };
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`bench: ${cmd} exited: ${err.slice(-800)}`));
        });
        check();
      });
    },
    stderrText: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** Milliseconds from spawning `cmd` to its first stdout byte (then it is killed). */
export function timeToFirstByte(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", () => {
      const ms = performance.now() - t0;
      child.kill("SIGTERM");
      resolve(ms);
    });
    child.once("exit", (code) => reject(new Error(`bench: ${cmd} exited ${code} before any byte: ${err.slice(-800)}`)));
  });
}

/**
 * Writes an ssh_config for the OpenSSH side: `hv` (the hypervisor), `gN` (a guest through
 * `ssh hv socat - VSOCK-CONNECT:CID:22`) and `local` (127.0.0.1, verified as guest g1 — the
 * end of either tunnel). Every hop verifies host keys and is forced to CIPHER.
 */
/**
 * An ssh_config for the lab: `hv`, `local` (127.0.0.1 checked as g1), each guest through
 * OpenSSH's own ProxyCommand, and `s2v-GUEST` through `ssh2vsock proxy %h %p` when `bin` is given.
 */
export function writeSshConfig(lab: Lab, bin?: string): string {
  const file = join(lab.dir, "bench_ssh_config");
  const lines = [
    "Host *",
    "  User root",
    `  IdentityFile ${lab.clientKey}`,
    "  IdentitiesOnly yes",
    "  BatchMode yes",
    `  UserKnownHostsFile ${lab.knownHostsFile}`,
    "  StrictHostKeyChecking yes",
    `  Ciphers ${CIPHER}`,
    "  ControlMaster no",
    "  ControlPath none",
    "  LogLevel ERROR",
    "Host hv",
    "  HostName 127.0.0.1",
    `  Port ${lab.hypervisor.port}`,
    "Host local",
    "  HostName 127.0.0.1",
    "  HostKeyAlias g1.lab.test",
  ];
  for (const g of lab.guests) {
    lines.push(`Host ${g.name}`, `  HostName ${g.name}.lab.test`, `  ProxyCommand ssh -F ${file} hv socat - VSOCK-CONNECT:${g.cid}:22`);
    if (bin) lines.push(`Host s2v-${g.name}`, `  HostName ${g.name}`, `  HostKeyAlias ${g.name}.lab.test`, `  ProxyCommand ${bin} -c ${lab.configFile} proxy %h %p`);
  }
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}
