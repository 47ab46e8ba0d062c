// Many guests behind one hypervisor: 20 tunnels opened at once share a single verified
// hypervisor connection (one handshake), each guest on its own relay channel.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startLab, type Lab } from "../lab/lab.ts";
import { runCli } from "./_cli.ts";
import { landedNamespaces, sshEveryGuestScript } from "./_fixtures.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 20 });
});
after(async () => {
  await lab?.stop();
});

test("20 guests open concurrently through one hypervisor connection and each reaches its own namespace", async () => {
  const before = lab.hypervisorConnectionCount();
  const script = sshEveryGuestScript(lab, 20);
  const r = await runCli(["run", "-c", lab.configFile, "--", "sh", "-c", script], { timeoutMs: 110_000 });
  assert.equal(r.code, 0, r.stderr);
  const landed = landedNamespaces(r.stdout);
  assert.deepEqual(landed, Object.fromEntries(lab.guests.map((g) => [g.name, g.netns])));
  assert.equal(lab.hypervisorConnectionCount() - before, 1, "exactly one hypervisor connection for 20 guests");
});
