// Undoing a lab: its sshds (by PID, with their sessions), its Unix-socket bridges, its namespaces and their /etc/netns
// overlays, and its directory; once, from stop(), a failed start or the process exit hook.

import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { removeGuestShadow } from "./_accounts.ts";
import type { Sshd } from "./_sshd.ts";
import type { UnixBridge } from "./_unix_bridges.ts";
import { run, type LabTools } from "./_system.ts";

/** Everything a lab created, undone once: by stop(), a failed start, or the process exit hook. */
export class Cleanup {
  sshds: Sshd[] = [];
  netns: string[] = [];
  bridges: UnixBridge[] = [];
  /** Directories outside the lab directory (the lower-case socket directory). */
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
    await Promise.all(this.sshds.map((s) => s.stop()));
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
    for (const s of this.sshds) s.killNow();
    for (const ns of this.netns) {
      spawnSync(this.tools.ip, ["netns", "delete", ns], { stdio: "ignore" });
      rmSync(join("/etc/netns", ns), { recursive: true, force: true });
    }
    for (const d of [this.dir, ...this.dirs]) rmSync(d, { recursive: true, force: true });
  }
}
