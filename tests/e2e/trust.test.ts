// Host key trust end to end: what is refused (exit 3, presented fingerprint, nothing sent),
// and known_hosts semantics (@revoked, hashed, [host]:port, negation) against real sshd.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { startLab, type Lab } from "../lab/lab.ts";
import { runCli } from "./_cli.ts";
import { fingerprintOf, guestBlock, hypervisorBlock, knownHostsFor, readLog, tunnelOutcome, writeConfig, writeKnownHosts } from "./_fixtures.ts";

let lab: Lab;
let otherKey: string;
before(async () => {
  lab = await startLab({ guests: 2, guestVariants: { g2: "rsa-only" } });
  otherKey = join(lab.dir, "other_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
});
after(async () => {
  await lab?.stop();
});

const hvName = () => `[127.0.0.1]:${lab.hypervisor.port}`;
const hvKeys = () => Object.values(lab.hypervisor.hostKeyPubFiles).map((f) => knownHostsFor(hvName(), f));

/** Config whose hypervisor and guest g1 use the given known_hosts files. */
function configWith(name: string, hvKnownHosts: string, guestKnownHosts: string, guest = "g1"): string {
  return writeConfig(
    lab,
    name,
    hypervisorBlock(lab, { known_hosts_file: JSON.stringify(hvKnownHosts) }) +
      guestBlock(lab, guest, { known_hosts_file: JSON.stringify(guestKnownHosts) }),
  );
}

describe("refusals", () => {
  test("a guest presenting a key that is not trusted: exit 3, its SHA-256 fingerprint, no login attempted", async () => {
    const guestKh = writeKnownHosts(lab, "g1-other", [knownHostsFor("g1.lab.test", `${otherKey}.pub`)]);
    const logBefore = readLog(lab.guests[0].sshdLog).length;
    const r = await runCli(["tunnel", "-c", configWith("untrusted-guest", lab.knownHostsFile, guestKh), "g1"]);
    assert.equal(r.code, 3, r.stderr);
    assert.ok(r.stderr.includes(fingerprintOf(lab.guests[0].hostKeyPubFiles.ed25519)), r.stderr);
    assert.match(r.stderr, /^ssh2vsock: .*guest g1\b/m);
    const log = readLog(lab.guests[0].sshdLog).slice(logBefore);
    assert.match(log, /Connection from/, "the guest was reached");
    assert.doesNotMatch(log, /Accepted|userauth|Postponed/, "no authentication was attempted");
  });

  test("a hypervisor presenting a key that is not trusted: exit 3 and its fingerprint", async () => {
    const hvKh = writeKnownHosts(lab, "hv-other", [knownHostsFor(hvName(), `${otherKey}.pub`)]);
    const r = await runCli(["tunnel", "-c", configWith("untrusted-hv", hvKh, lab.knownHostsFile), "g1"]);
    assert.equal(r.code, 3, r.stderr);
    assert.ok(r.stderr.includes(fingerprintOf(lab.hypervisor.hostKeyPubFiles.ed25519)), r.stderr);
    assert.match(r.stderr, /hypervisor/);
    assert.match(r.stderr, /CHANGED/i);
  });

  test("a key marked @revoked is refused even when another line trusts it", async () => {
    const ed = lab.guests[0].hostKeyPubFiles.ed25519;
    const guestKh = writeKnownHosts(lab, "g1-revoked", [knownHostsFor("g1.lab.test", ed), knownHostsFor("*", ed, "@revoked")]);
    const out = await tunnelOutcome(configWith("revoked", lab.knownHostsFile, guestKh));
    assert.equal(out.ready, false);
    assert.equal(out.code, 3, out.stderr);
    assert.match(out.stderr, /REVOKED/i);
  });

  test("with no trusted key at all, nothing is dialled and the hint says how to get one", async () => {
    const empty = writeKnownHosts(lab, "empty", []);
    const connections = lab.hypervisorConnectionCount();
    const r = await runCli(["tunnel", "-c", configWith("no-key", empty, lab.knownHostsFile), "g1"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /no trusted host key/);
    assert.match(r.stderr, /^hint: /m);
    assert.equal(lab.hypervisorConnectionCount(), connections);
  });
});

describe("known_hosts semantics against real servers", () => {
  test("hashed entries written by ssh-keygen -H are honoured for both hops", async () => {
    const hv = writeKnownHosts(lab, "hv-hashed", hvKeys());
    const guest = writeKnownHosts(lab, "g1-hashed", Object.values(lab.guests[0].hostKeyPubFiles).map((f) => knownHostsFor("g1.lab.test", f)));
    execFileSync("ssh-keygen", ["-H", "-f", hv], { stdio: "ignore" });
    execFileSync("ssh-keygen", ["-H", "-f", guest], { stdio: "ignore" });
    const out = await tunnelOutcome(configWith("hashed", hv, guest));
    assert.equal(out.ready, true, out.stderr);
  });

  test("a bare-host entry is used for a non-22 port when [host]:port has none, including through *,![host]:port", async () => {
    const ed = lab.hypervisor.hostKeyPubFiles.ed25519;
    for (const pattern of ["127.0.0.1", `*,!${hvName()}`]) {
      const hv = writeKnownHosts(lab, "hv-bare", [knownHostsFor(pattern, ed)]);
      const out = await tunnelOutcome(configWith("bare", hv, lab.knownHostsFile));
      assert.equal(out.ready, true, `${pattern}: ${out.stderr}`);
    }
  });

  test("a line whose negations cover both [host]:port and the bare host does not trust it", async () => {
    const ed = lab.hypervisor.hostKeyPubFiles.ed25519;
    const hv = writeKnownHosts(lab, "hv-negated", [knownHostsFor(`*,!${hvName()},!127.0.0.1`, ed)]);
    const r = await runCli(["tunnel", "-c", configWith("negated", hv, lab.knownHostsFile), "g1"], { timeoutMs: 20_000 });
    assert.equal(r.code, 3, r.stderr);
  });

  test("an entry for another port does not trust the host", async () => {
    const ed = lab.hypervisor.hostKeyPubFiles.ed25519;
    const hv = writeKnownHosts(lab, "hv-otherport", [knownHostsFor(`[127.0.0.1]:1`, ed)]);
    const r = await runCli(["tunnel", "-c", configWith("otherport", hv, lab.knownHostsFile), "g1"], { timeoutMs: 20_000 });
    assert.equal(r.code, 3, r.stderr);
  });
});

describe("algorithm restriction", () => {
  test("with only an RSA key trusted, the handshake negotiates rsa-sha2-*", async () => {
    const guest = writeKnownHosts(lab, "g1-rsa", [knownHostsFor("g1.lab.test", lab.guests[0].hostKeyPubFiles.rsa)]);
    const before = readLog(lab.guests[0].sshdLog).length;
    const out = await tunnelOutcome(configWith("rsa-only-trust", lab.knownHostsFile, guest));
    assert.equal(out.ready, true, out.stderr);
    const log = readLog(lab.guests[0].sshdLog).slice(before);
    assert.match(log, /kex: host key algorithm: rsa-sha2-(512|256)/);
    assert.doesNotMatch(log, /kex: host key algorithm: ssh-rsa\b/);
  });

  test("a server lacking every trusted algorithm fails naming the algorithms on each side", async () => {
    const guest = writeKnownHosts(lab, "g2-ed", [knownHostsFor("g2.lab.test", lab.guests[0].hostKeyPubFiles.ed25519)]);
    const r = await runCli(["tunnel", "-c", configWith("no-overlap", lab.knownHostsFile, guest, "g2"), "g2"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /rsa-sha2-512/, "names what the server offers");
    assert.match(r.stderr, /ssh-ed25519/, "names what we accept");
  });
});
