// Seeded fuzzing of the TOML configuration through parsing, validation and resolution: damaged
// real files load into guests whose every hop is verified, or fail with a ConfigError (exit 2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, stringify } from "smol-toml";
import { ConfigError } from "../../src/core/errors.ts";
import type { LoadedConfig } from "../../src/core/config/index.ts";
import { GUEST_NAME } from "../../src/core/config/validate.ts";
import { hostNameProblem } from "../../src/core/hostname.ts";
import { libvirtDomainProblem } from "../../src/core/vsock/libvirt-domain.ts";
import { FILE, hasVerification, loadToml } from "./_config-fixtures.ts";
import { assertTypedError, FUZZ_SEED, fuzz, hasControl, mutateTextTimes, SEPARATORS, show, type Rand } from "./_fuzz.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsn8Xg0uDwqOzcDYx9ZBV9MvKF5JUvA6f0eQpNaH5RM";

/** Valid configurations covering every block, transport, trust source and mode. */
const VALID = [
  `
[hypervisor]
hostname = "hv1.example.com"
port = 22
username = "root"
known_hosts_file = "~/.ssh/known_hosts"
ssh_use_agent = true
socat = "socat"

[hypervisors.hv2]
hostname = "hv2.example.com"
known_hosts = ["hv2.example.com ${KEY}"]
ssh_private_key = "~/.ssh/id_ed25519"

[guests.web1]
cid = 3
hostname = "web1.example.com"
use_sshfp = true
dns_resolver = "127.0.0.1:53"
ssh_private_key = "~/.ssh/id_ed25519"
listen = "127.0.0.1:2201"
target = "127.0.0.1:22"
hypervisor = "hv2"
`,
  `
[hypervisor]
local = true
mode = "forward"

[guests.fc1]
vsock_mux = "/run/firecracker/fc1.vsock"
hostname = "fc1.example.com"
known_hosts = ["fc1.example.com ${KEY}", "@revoked * ${KEY}"]
password = "pw"
target = "127.0.0.1:8080"

[guests.box]
unix_socket = "/run/box/ssh.sock"
ssh_ignore_host_key = true
mode = "splice"
`,
  `
[guests.web3]
domain = "web3"
hostname = "web3.example.com"
hypervisor = { hostname = "hv3.example.com", port = 2222, known_hosts_file = "/etc/ssh/ssh_known_hosts", ssh_use_agent = true, use_sshfp = true, dns_resolver = "[::1]:853", ca_file = "/etc/ca.pem" }
known_hosts_file = "$HOME/.ssh/known_hosts"
`,
];
const PARSED = VALID.map((t) => parse(t));

function randomValue(rand: Rand): unknown {
  switch (rand.int(9)) {
    case 0: return rand.pick([0, 1, 2, 3, -1, 22, 65535, 65536, 4294967294, 4294967295, Number.MAX_SAFE_INTEGER, -(2 ** 63)]);
    case 1: return rand.pick([0.5, Infinity, -Infinity, NaN, 1e300]);
    case 2: return rand.chance(0.5);
    case 3: return rand.text(20);
    case 4: return `${rand.pick(["127.0.0.1:53", "[::1]:853", "/run/x.sock", "~/.ssh/id", "$HOME/k", "web1.example.com"])}${rand.pick(SEPARATORS)}${rand.text(5)}`;
    case 5: return rand.pick(SEPARATORS).repeat(1 + rand.int(5000));
    case 6: return [rand.text(10), rand.chance(0.5) ? 3 : `x ${KEY}`];
    case 7: return { hostname: rand.text(8), [rand.text(6)]: rand.text(4) };
    default: return new Date(rand.int(2 ** 40));
  }
}

/** One structural change: replace, delete or add a value somewhere in the tree. */
function mutateTree(rand: Rand, node: Record<string, unknown>): void {
  const keys = Object.keys(node);
  const key = keys.length > 0 && rand.chance(0.8) ? rand.pick(keys) : rand.pick(["cid", "hostname", "hypervisor", "guests", rand.text(8)]);
  const child = node[key];
  if (child !== null && typeof child === "object" && !Array.isArray(child) && !(child instanceof Date) && rand.chance(0.6)) {
    return mutateTree(rand, child as Record<string, unknown>);
  }
  switch (rand.int(4)) {
    case 0:
      delete node[key];
      return;
    case 1: {
      // Rename: guest and hypervisor names are keys too.
      const value = node[key];
      delete node[key];
      node[rand.chance(0.5) ? rand.text(10) : `${key}${rand.pick(SEPARATORS)}`] = value;
      return;
    }
    default:
      node[key] = randomValue(rand);
  }
}

function checkLoaded(loaded: LoadedConfig, where: string): void {
  const inRange = (n: number, lo: number, hi: number) => Number.isInteger(n) && n >= lo && n <= hi;
  for (const g of loaded.guests) {
    const at = `${where}, guest ${show(g.name)}`;
    // Names and hostnames end up in shell completion, ssh_config and known_hosts lookups.
    assert.match(g.name, GUEST_NAME, `${at}: a guest name outside [A-Za-z0-9._-]`);
    for (const hop of [g.hop, g.hypervisor]) {
      if (hop.hostname !== undefined) assert.equal(hostNameProblem(hop.hostname), undefined, `${at}: hostname ${show(hop.hostname)}`);
    }
    if (g.transport.kind === "libvirt") assert.equal(libvirtDomainProblem(g.transport.domain), undefined, `${at}: domain ${show(g.transport.domain)}`);
    // The hypervisor's login shell may be fish: no quote, backslash or control character reaches it.
    assert.ok(!/['\\]/.test(g.hypervisor.socat) && !hasControl(g.hypervisor.socat), `${at}: socat ${show(g.hypervisor.socat)}`);
    assert.ok(hasVerification(g.hop) || g.hop.verification.ignoreHostKey, `${at}: no way to verify the guest's key`);
    if (g.hop.verification.ignoreHostKey) assert.ok(!hasVerification(g.hop), `${at}: ssh_ignore_host_key beside a trust source`);
    assert.ok(g.hypervisor.local || hasVerification(g.hypervisor), `${at}: no way to verify the hypervisor's key`);
    assert.equal(g.hypervisor.verification.ignoreHostKey, false, `${at}: the hypervisor's key is ignored`);
    if (g.hop.verification.useSshfp) assert.ok(g.hop.verification.dnsResolver, `${at}: use_sshfp without dns_resolver`);
    if (g.transport.kind === "vsock") assert.ok(inRange(g.transport.cid, 3, 4294967294), `${at}: cid ${g.transport.cid}`);
    for (const port of [g.hop.port, g.hypervisor.port, g.target.port]) assert.ok(inRange(port, 1, 65535), `${at}: port ${port}`);
    assert.ok(inRange(g.listen.port, 0, 65535), `${at}: listen port ${g.listen.port}`);
    assert.ok(g.mode === "splice" || g.mode === "forward", `${at}: mode ${g.mode}`);
  }
}

/** Checks one text; true when it loaded. */
function checkText(text: string, context: string): boolean {
  let loaded: LoadedConfig;
  try {
    loaded = loadToml(text, { HOME: "/home/u" });
  } catch (error) {
    assertTypedError(error, context, [ConfigError]);
    assert.equal(error.exitCode, 2, context);
    assert.ok(error.problems.length > 0, `${context}: a ConfigError without problems`);
    for (const p of error.problems) {
      assert.equal(p.file, FILE, `${context}: problem in ${p.file}`);
      assert.ok(typeof p.path === "string" && p.message.length > 0, `${context}: malformed problem ${show(p)}`);
    }
    return false;
  }
  checkLoaded(loaded, context);
  return true;
}

test(`damaged configuration text loads verified guests or fails with exit 2 (seed ${FUZZ_SEED + 30})`, async () => {
  // Repeats stay near 30 KB here: "did you mean" compares an unknown attribute name with every
  // known one by edit distance, quadratic in its length (a 200 KB name takes most of a second).
  await fuzz("config (mutated text)", { seed: FUZZ_SEED + 30, count: 8000 }, (rand) => mutateTextTimes(rand, rand.pick(VALID), VALID, 3, { maxRepeat: 2000 }), checkText);
});

test(`configurations with damaged values, names and structure load verified guests or fail with exit 2 (seed ${FUZZ_SEED + 31})`, async () => {
  let loaded = 0;
  await fuzz("config (mutated structure)", { seed: FUZZ_SEED + 31, count: 8000, note: () => `${loaded} damaged configurations loaded` }, (rand) => {
    const tree = structuredClone(rand.pick(PARSED)) as Record<string, unknown>;
    for (let n = 1 + rand.int(3); n > 0; n--) mutateTree(rand, tree);
    try {
      return stringify(tree);
    } catch {
      // smol-toml cannot write every tree (NaN in an array, …): damage the text instead.
      return mutateTextTimes(rand, rand.pick(VALID), VALID, 3, { maxRepeat: 2000 });
    }
  }, (text, context) => {
    if (checkText(text, context)) loaded++;
  });
  // Some damaged trees must still load, or the checks on loaded guests never ran.
  assert.ok(loaded > 0, "no damaged configuration loaded");
});
