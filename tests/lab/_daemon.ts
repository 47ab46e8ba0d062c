// A lab process in a guest's network namespace other than OpenSSH's sshd (socat in front of
// tinysshd, dropbear, the guest's TCP service): ready once its port listens, stopped by PID.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, readlinkSync } from "node:fs";
import { descendants, netnsLink, signalAll, sleep, stopTree, readFrom, sizeOf, type LabTools } from "./_system.ts";

export interface DaemonSpec {
  /** Names the daemon in errors. */
  label: string;
  netns: string;
  /** Run as `ip netns exec NETNS ...argv`, which execs in place: the PID is the daemon's own. */
  argv: string[];
  /** It is ready once something listens on 127.0.0.1:port inside `netns`. */
  port: number;
  /** Its stdout and stderr, appended. */
  log: string;
}

export class NetnsDaemon {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    private readonly tools: LabTools,
    readonly spec: DaemonSpec,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the daemon and resolves once it listens; throws with the tail of its log otherwise. */
  async start(timeoutMs = 10_000): Promise<void> {
    const { netns, argv, port, log, label } = this.spec;
    const offset = sizeOf(log);
    const fd = openSync(log, "a");
    const child = spawn(this.tools.ip, ["netns", "exec", netns, ...argv], { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    // Like the sshds: only stop() or the exit hook ends it, never the test process's own exit.
    child.unref();
    this.child = child;
    let exitedEarly = false;
    this.exited = new Promise((resolve) => {
      const done = () => {
        exitedEarly = true;
        resolve();
      };
      child.on("exit", done);
      child.on("error", done);
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !exitedEarly) {
      if (child.pid !== undefined && listensIn(child.pid, netns, port)) return;
      await sleep(15);
    }
    const why = exitedEarly ? "exited" : `was not listening on 127.0.0.1:${port} after ${timeoutMs} ms`;
    await this.stop();
    const text = readFrom(log, offset).trim().split("\n").slice(-20).join("\n");
    throw new Error(`tests/lab: ${label} (netns ${netns}) ${why}:\n${text}`);
  }

  /** Ends the daemon and everything it forked (connections, sessions), and waits for them. */
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
    if (pid !== undefined) signalAll([pid, ...descendants(pid)], "SIGKILL");
  }
}

/**
 * Whether `pid`, already inside `netns`, sees a listener on 127.0.0.1:port. /proc/PID/net/tcp
 * shows the table of the PID's namespace; until `ip netns exec` has switched, that is the
 * host's, whose listeners must not count: hence the namespace check first.
 */
export function listensIn(pid: number, netns: string, port: number): boolean {
  try {
    if (readlinkSync(`/proc/${pid}/ns/net`) !== netnsLink(netns)) return false;
    const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
    return readFileSync(`/proc/${pid}/net/tcp`, "utf8")
      .split("\n")
      .slice(1)
      .some((line) => {
        const f = line.trim().split(/\s+/);
        return f[1] === local && f[3] === "0A"; // 0A: TCP_LISTEN
      });
  } catch {
    return false;
  }
}
