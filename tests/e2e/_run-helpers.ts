// Helpers shared by the run/heal/shutdown/logs e2e tests: process-tree checks by PID through
// /proc, waiting for a condition, and the secret scan of collected ssh2vsock stderr.
import assert from "node:assert/strict";
import type { Lab } from "../lab/lab.ts";

// The lab's own process-tree helpers, under the names these tests use.
export { alive, descendants as descendantsOf } from "../lab/_system.ts";

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
