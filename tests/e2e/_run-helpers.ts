// Helpers shared by the run/heal/shutdown/logs e2e tests: process-tree checks by PID through
// /proc, waiting for a condition, and the secret scan of collected ssh2vsock stderr.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import type { Lab } from "../lab/lab.ts";

/** PIDs of every live descendant of `pid`, walked through /proc/<pid>/task/<tid>/children. */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      let kids = "";
      try {
        kids = readFileSync(`/proc/${p}/task/${tid}/children`, "utf8");
      } catch {
        continue;
      }
      for (const k of kids.split(/\s+/).filter(Boolean).map(Number)) {
        out.push(k);
        stack.push(k);
      }
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `cond` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(cond: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Fails when the lab's password or passphrase appears anywhere in `text`. */
export function assertNoSecrets(lab: Lab, text: string, what: string): void {
  assert.ok(text.length > 0, `${what}: nothing collected to scan`);
  assert.ok(!text.includes(lab.password), `${what}: contains the lab password`);
  assert.ok(!text.includes(lab.passphrase), `${what}: contains the lab passphrase`);
}
