// Undoing a lab: its sshds and other guest daemons (by PID, with their sessions), its Unix-socket bridges, its
// namespaces and their /etc/netns overlays, and its directories; once, from stop(), a failed start or the exit hook.

import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { removeGuestShadow } from "./_accounts.ts";
import type { NetnsDaemon } from "./_daemon.ts";
import type { Sshd } from "./_sshd.ts";
import type { UnixBridge } from "./_unix_bridges.ts";
import { alive, pidsInNetns, run, signalAll, sleep, type LabTools } from "./_system.ts";

/** Everything a lab created, undone once: by stop(), a failed start, or the process exit hook. */
export class Cleanup {
  sshds: Sshd[] = [];
  /** tinysshd's socat, dropbear, the guests' TCP services. */
  daemons: NetnsDaemon[] = [];
  netns: string[] = [];
  bridges: UnixBridge[] = [];
  /** Directories outside the lab directory (the lower-case socket directory, the guest user's home). */
  dirs: string[] = [];
  private done?: Promise<void>;
  private readonly onExit = () => this.runSync();

  constructor(
    private readonly tools: LabTools,
    private readonly dir: string,
  ) {
    process.on("exit", this.onExit);
  }

  run(): Promise<void> {
    this.done ??= this.runAsync();
    return this.done;
  }

  private async runAsync(): Promise<void> {
    process.off("exit", this.onExit);
    for (const b of this.bridges) b.stop();
    await Promise.all([...this.sshds, ...this.daemons].map((s) => s.stop()));
    // A guest session whose connection died with the hypervisor can lose its server before the
    // server's tree is walked, and live on under init: it is still in the guest's namespace.
    for (let i = 0; i < 100; i++) {
      const left = pidsInNetns(this.netns).filter(alive);
      if (left.length === 0) break;
      signalAll(left, "SIGKILL");
      await sleep(20);
    }
    await Promise.all(
      this.netns.map(async (ns) => {
        await run(this.tools.ip, ["netns", "delete", ns], { allowFailure: true });
        await removeGuestShadow(ns);
      }),
    );
    await Promise.all([this.dir, ...this.dirs].map((d) => rm(d, { recursive: true, force: true })));
  }

  /** The test process is exiting without stop(): leave nothing behind, synchronously. */
  private runSync(): void {
    for (const b of this.bridges) b.stop();
    for (const s of [...this.sshds, ...this.daemons]) s.killNow();
    signalAll(pidsInNetns(this.netns), "SIGKILL");
    for (const ns of this.netns) {
      spawnSync(this.tools.ip, ["netns", "delete", ns], { stdio: "ignore" });
      rmSync(join("/etc/netns", ns), { recursive: true, force: true });
    }
    for (const d of [this.dir, ...this.dirs]) rmSync(d, { recursive: true, force: true });
  }
}
