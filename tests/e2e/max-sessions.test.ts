// A hypervisor whose sshd allows few channels per connection (MaxSessions, default 10 in
// OpenSSH) still serves every guest: ssh2vsock opens another verified connection when refused.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startLab, type Lab } from "../lab/lab.ts";
import { runCli } from "./_cli.ts";
import { landedNamespaces, sshEveryGuestScript } from "./_fixtures.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 10, hypervisorMaxSessions: 4 });
});
after(async () => {
  await lab?.stop();
});

test("10 guests behind a hypervisor with MaxSessions 4 all open, over about three verified connections", async () => {
  const before = lab.hypervisorConnectionCount();
  const script = sshEveryGuestScript(lab, 10);
  const r = await runCli(["run", "-c", lab.configFile, "-v", "--", "sh", "-c", script], { timeoutMs: 110_000 });
  assert.equal(r.code, 0, r.stderr);
  const landed = landedNamespaces(r.stdout);
  assert.deepEqual(landed, Object.fromEntries(lab.guests.map((g) => [g.name, g.netns])));
  const connections = lab.hypervisorConnectionCount() - before;
  assert.ok(connections >= 3 && connections <= 5, `${connections} hypervisor connections for 10 guests at 4 channels each`);
  assert.match(r.stderr, /refused another channel \(sshd MaxSessions\?\); opening connection 2/);
  assert.equal((r.stderr.match(/verified \[hypervisor /g) ?? []).length, connections, "each connection verified its host key");
});
