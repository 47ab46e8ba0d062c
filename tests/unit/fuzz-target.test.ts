// Seeded fuzzing of TARGET strings through resolveTarget: damaged real targets either resolve to
// a well-formed guest whose hops are verified, or fail with a typed usage error (exit 2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, UsageError } from "../../src/core/errors.ts";
import { resolveTarget, type GuestConfig, type LoadedConfig } from "../../src/core/config/index.ts";
import { hostNameProblem } from "../../src/core/hostname.ts";
import { libvirtDomainProblem } from "../../src/core/vsock/libvirt-domain.ts";
import { hasVerification, loadToml } from "./_config-fixtures.ts";
import { assertTypedError, FUZZ_SEED, fuzz, mutateTextTimes, show } from "./_fuzz.ts";

const CONFIG_TEXT = `
[hypervisor]
hostname = "hv1.example.com"
known_hosts_file = "/etc/kh"
ssh_private_key = "/keys/hv"

[hypervisors.hv2]
hostname = "hv2.example.com"
known_hosts = ["hv2.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsn8Xg0uDwqOzcDYx9ZBV9MvKF5JUvA6f0eQpNaH5RM"]

[guests.Web1]
cid = 3
hostname = "web1.example.com"

[guests.db]
cid = 4
hostname = "db.example.com"
hypervisor = "hv2"
`;
const CONFIG: LoadedConfig = loadToml(CONFIG_TEXT);
const NONE: LoadedConfig = { guests: [] };

const TARGETS = [
  "vsock/3", "vsock/3:2222", "vsock%3", "vsock%4294967294:1", "qemu/web3", "qemu%web3", "qemu:system/5f1c-uuid",
  "qemu:session%7", "vsock-mux/run/fc/v.sock", "vsock-mux%./v.sock", "unix/run/vm.sock", "unix/./vm.sock", "unix%run/vm.sock",
  "Web1", "web1", "db",
];
const OVERRIDES = [undefined, "local", "alice@hv9:2200", "ssh://bob@[::1]:22", "qemu+ssh://root@hv3/system?knownhosts=/kh", "qemu:///session"];


/** What any resolved guest must look like, whatever the target string was. */
function checkGuest(g: GuestConfig, target: string, where: string): void {
  const t = g.transport;
  if (t.kind === "vsock") {
    assert.ok(Number.isInteger(t.cid) && t.cid >= 3 && t.cid <= 4294967294, `${where}: cid ${t.cid}`);
  }
  if ("port" in t) assert.ok(Number.isInteger(t.port) && t.port >= 1 && t.port <= 65535, `${where}: port ${t.port}`);
  if (t.kind === "unix" || t.kind === "vsock-mux") {
    assert.ok(t.path.startsWith("/") || t.path.startsWith("./"), `${where}: relative socket path ${t.path}`);
  }
  // The domain goes to virsh through the hypervisor's login shell (maybe fish): no quoting is safe there.
  if (t.kind === "libvirt") assert.equal(libvirtDomainProblem(t.domain), undefined, `${where}: domain ${show(t.domain)}`);
  // The guest's hostname is what known_hosts is searched for and ssh-config writes as HostKeyAlias:
  // a configured guest's is one host name; an ad-hoc guest's is the target itself, as OpenSSH's %h
  // (its writers check it again before it goes into any line).
  const name = g.hop.hostname;
  if (name !== undefined && name !== target) assert.equal(hostNameProblem(name), undefined, `${where}: hostname ${show(name)}`);
  if (t.kind === "unix" || t.kind === "vsock-mux") assert.ok(t.path.length > 1, `${where}: empty path`);
  assert.ok(hasVerification(g.hop) || g.hop.verification.ignoreHostKey, `${where}: guest hop with no way to verify its key`);
  assert.ok(g.hypervisor.local || hasVerification(g.hypervisor), `${where}: hypervisor hop with no way to verify its key`);
  assert.equal(g.hypervisor.verification.ignoreHostKey, false, `${where}: hypervisor key ignored`);
}

test(`damaged target strings resolve to well-formed, verified guests or fail with exit 2 (seed ${FUZZ_SEED + 10})`, async () => {
  await fuzz("targets", { seed: FUZZ_SEED + 10, count: 15_000 }, (rand) => ({
    target: rand.chance(0.9) ? mutateTextTimes(rand, rand.pick(TARGETS), TARGETS) : rand.text(30),
    configured: rand.chance(0.5),
    override: rand.pick(OVERRIDES),
    port: rand.chance(0.8) ? undefined : rand.pick([1, 22, 65535]),
  }), (input, context) => {
    let guest: GuestConfig;
    try {
      guest = resolveTarget(input.target, input.configured ? CONFIG : NONE, {
        env: { SSH_AUTH_SOCK: "/run/agent" },
        home: "/home/u",
        hypervisorOverride: input.override,
        port: input.port,
      });
    } catch (error) {
      assertTypedError(error, context, [UsageError, ConfigError]);
      assert.equal(error.exitCode, 2, context);
      return;
    }
    checkGuest(guest, input.target, context);
  });
});
