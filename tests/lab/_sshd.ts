// One OpenSSH sshd of the lab: its sshd_config text, and the process itself (started with -D
// so its PID is ours, optionally inside a network namespace, stopped with its sessions).

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { descendants, freePort, run, signalAll, sleep, stopTree, readFrom, sizeOf, type LabTools } from "./_system.ts";

export interface SshdSpec {
  /** Directory holding this sshd's config, log and pid file. */
  dir: string;
  port: number;
  /** Private host key paths: one HostKey line each. */
  hostKeys: string[];
  authorizedKeysDir: string;
  /** Restricts the ciphers offered (the `chacha-only` guest). */
  ciphers?: string[];
  /** Host key algorithms offered beyond the defaults (`ssh-rsa` on the `rsa-only` guest). */
  extraHostKeyAlgorithms?: string[];
  /** `SetEnv PATH=…` for sessions (the hypervisor's socat wrapper goes first). */
  sessionPath?: string;
  /** Network namespace to run in; undefined for the host's. */
  netns?: string;
  /** Session channels per connection (sshd's MaxSessions); default 200. */
  maxSessions?: number;
  /** False for the `no-forwarding` guest: every forwarding refused ("administratively prohibited"). */
  forwarding?: boolean;
  /** `TrustedUserCAKeys` (a CA .pub path): user certificates it signed log in beside authorized_keys. */
  trustedUserCaKeys?: string;
  /** Host certificate paths (`HostCertificate`), each beside its host key. */
  hostCertificates?: string[];
}

/** Version-dependent sshd options the lab uses. */
export interface SshdFeatures {
  perSourcePenalties: boolean;
  /** Whether `DisableForwarding` exists (probed with sshd -T only when a guest needs it). */
  disableForwarding?: boolean;
}

/** sshd_config text for `spec`; `features` says which version-dependent options exist. */
export function sshdConfig(spec: SshdSpec, features: SshdFeatures): string {
  const forwarding = spec.forwarding === false ? "no" : "yes";
  const lines = [
    `# ssh2vsock lab sshd (${spec.netns ? `netns ${spec.netns}` : "hypervisor"})`,
    `ListenAddress 127.0.0.1:${spec.port}`,
    ...spec.hostKeys.map((k) => `HostKey ${k}`),
    ...(spec.hostCertificates ?? []).map((c) => `HostCertificate ${c}`),
    `PidFile ${join(spec.dir, "sshd.pid")}`,
    "LogLevel DEBUG1",
    "UsePAM no",
    "PermitRootLogin yes",
    `AuthorizedKeysFile ${spec.authorizedKeysDir}/%u`,
    ...(spec.trustedUserCaKeys ? [`TrustedUserCAKeys ${spec.trustedUserCaKeys}`] : []),
    "StrictModes no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication yes",
    "KbdInteractiveAuthentication no",
    `AllowTcpForwarding ${forwarding}`,
    `AllowStreamLocalForwarding ${forwarding}`,
    // Tunnels open one channel per connection; the defaults (10 sessions, 10 pending
    // connections) are smaller than the concurrency tests use.
    `MaxSessions ${spec.maxSessions ?? 200}`,
    "MaxStartups 200",
    "X11Forwarding no",
    "PrintMotd no",
    "Subsystem sftp internal-sftp",
  ];
  if (spec.ciphers) lines.push(`Ciphers ${spec.ciphers.join(",")}`);
  if (spec.extraHostKeyAlgorithms) lines.push(`HostKeyAlgorithms +${spec.extraHostKeyAlgorithms.join(",")}`);
  // SHLVL=1: Debian's bash sources ~/.bashrc for commands sshd runs, unless SHLVL reaches 2.
  // A machine's own root .bashrc (pyenv's rehash takes a lock) then serialised 20 concurrent
  // relays past their 15 s banner timeout; the lab's sessions must not depend on it.
  const env = [...(spec.sessionPath ? [`PATH=${spec.sessionPath}`] : []), "SHLVL=1"];
  lines.push(`SetEnv ${env.join(" ")}`);
  // Also refuses X11, agent and stream-local forwarding, whatever their own settings say.
  if (spec.forwarding === false && features.disableForwarding) lines.push("DisableForwarding yes");
  // OpenSSH >= 9.8 penalises sources that fail auth; tests fail auth on purpose from 127.0.0.1.
  if (features.perSourcePenalties) lines.push("PerSourcePenalties no");
  return lines.join("\n") + "\n";
}

/** Reads sshd's version (`sshd -V` prints it on stderr) to pick version-dependent options. */
export function sshdFeatures(versionText: string): { perSourcePenalties: boolean } {
  const m = /OpenSSH_(\d+)\.(\d+)/.exec(versionText);
  const version = m ? Number(m[1]) * 100 + Number(m[2]) : 0;
  return { perSourcePenalties: version >= 908 };
}

/** Asks this sshd whether it knows `DisableForwarding` (sshd -T rejects unknown options). */
async function probeDisableForwarding(tools: LabTools): Promise<boolean> {
  const r = await run(tools.sshd, ["-T", "-f", "/dev/null", "-o", "DisableForwarding=yes"], { allowFailure: true });
  return r.code === 0 && /^disableforwarding yes$/m.test(r.stdout);
}

/** sshd's version-dependent options; DisableForwarding is probed only when a guest needs it. */
export async function detectSshdFeatures(tools: LabTools, probeForwarding: boolean): Promise<SshdFeatures> {
  const version = await run(tools.sshd, ["-V"], { allowFailure: true });
  const features: SshdFeatures = sshdFeatures(version.stderr + version.stdout);
  if (probeForwarding) features.disableForwarding = await probeDisableForwarding(tools);
  return features;
}

/** Picks a free port and starts `hv` there, retrying if another process wins the port. */
export async function startOnFreePort(hv: Sshd, features: SshdFeatures): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    hv.spec.port = await freePort();
    await hv.writeConfig(features);
    try {
      await hv.start();
      return;
    } catch (err) {
      const lost = /Address already in use|Bind to port/.test(String(err));
      if (!lost || attempt >= 5) throw err;
    }
  }
}

/** Connections an sshd accepted on `port`, counted in its DEBUG1 log. */
export function connectionCount(log: string, port: number): number {
  let text = "";
  try {
    text = readFileSync(log, "utf8");
  } catch {
    return 0;
  }
  const re = new RegExp(`^.*Connection from \\S+ port \\d+ on \\S+ port ${port}\\b`, "gm");
  return text.match(re)?.length ?? 0;
}

/** A running (or stopped) sshd with a PID the lab owns. */
export class Sshd {
  readonly log: string;
  readonly configFile: string;
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    private readonly tools: LabTools,
    readonly spec: SshdSpec,
  ) {
    this.log = join(spec.dir, "sshd.log");
    this.configFile = join(spec.dir, "sshd_config");
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async writeConfig(features: SshdFeatures): Promise<void> {
    await writeFile(this.configFile, sshdConfig(this.spec, features), { mode: 0o600 });
  }

  /** Starts sshd -D and resolves once its log says it is listening; throws with its log otherwise. */
  async start(timeoutMs = 10_000): Promise<void> {
    const offset = sizeOf(this.log);
    const stderrFile = join(this.spec.dir, "sshd.stderr");
    const stderrFd = openSync(stderrFile, "a");
    const sshdArgs = [this.tools.sshd, "-D", "-f", this.configFile, "-E", this.log];
    // `ip netns exec` execs sshd in place, so the PID we get is sshd's own.
    const [cmd, args] = this.spec.netns
      ? [this.tools.ip, ["netns", "exec", this.spec.netns, ...sshdArgs]]
      : [sshdArgs[0]!, sshdArgs.slice(1)];
    const child = spawn(cmd, args, { stdio: ["ignore", stderrFd, stderrFd] });
    closeSync(stderrFd);
    // The lab must not keep a test process alive by itself; stop() or the exit hook ends sshd.
    child.unref();
    this.child = child;
    let exitedEarly = false;
    this.exited = new Promise((resolve) => {
      child.on("exit", () => {
        exitedEarly = true;
        resolve();
      });
      child.on("error", () => {
        exitedEarly = true;
        resolve();
      });
    });

    const listening = `Server listening on 127.0.0.1 port ${this.spec.port}.`;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (readFrom(this.log, offset).includes(listening)) return;
      if (exitedEarly) break;
      await sleep(15);
    }
    const why = exitedEarly ? "exited" : `was not listening after ${timeoutMs} ms`;
    await this.stop();
    const details = [readFrom(this.log, offset), readFrom(stderrFile, 0)].join("\n").trim();
    throw new Error(`tests/lab: sshd (${this.spec.dir}) ${why}:\n${tail(details, 20)}`);
  }

  /** Ends sshd and every session it forked (by PID, walked through /proc), and waits for them. */
  async stop(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined || !this.exited) return;
    await stopTree(pid, this.exited);
    this.child = undefined;
    this.exited = undefined;
  }

  /** Synchronous last-resort kill, for the process exit hook. */
  killNow(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    signalAll([pid, ...descendants(pid)], "SIGKILL");
  }

  /** PIDs of sshd and all its descendants right now. */
  processTree(): number[] {
    const pid = this.child?.pid;
    return pid === undefined ? [] : [pid, ...descendants(pid)];
  }
}

function tail(text: string, lines: number): string {
  return text.split("\n").slice(-lines).join("\n");
}
