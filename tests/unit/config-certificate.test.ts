// `ssh_certificate` in the configuration: its place in the authentication group, the rule that it
// never travels without a key or agent, and what `config check` says about the certificate file.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { guestOf, loadToml, problemsOf } from "./_config-fixtures.ts";
import { redactedView } from "../../src/core/config/index.ts";
import { checkCertificateFiles } from "../../src/core/ssh/user-certificate-check.ts";

const HV = `
[hypervisor]
hostname = "hv1.example.com"
known_hosts_file = "~/.ssh/known_hosts"
`;

describe("ssh_certificate in the configuration", () => {
  test("is read with its key, path-expanded, and shown by config show", () => {
    const g = guestOf(`${HV}ssh_private_key = "~/.ssh/id_ed25519"\nssh_certificate = "~/.ssh/ca/id_ed25519-cert.pub"\n[guests.web1]\ncid = 3\nhostname = "web1"\n`);
    assert.equal(g.hypervisor.auth.certificateFile, "/home/u/.ssh/ca/id_ed25519-cert.pub");
    assert.equal(g.hypervisor.auth.privateKeyFile, "/home/u/.ssh/id_ed25519");
    const shown = JSON.stringify(redactedView(g));
    assert.match(shown, /"ssh_certificate":"\/home\/u\/\.ssh\/ca\/id_ed25519-cert\.pub"/);
  });

  test("comes with its authentication group: a guest that sets its own key does not inherit the hypervisor's certificate", () => {
    const g = guestOf(
      `${HV}ssh_private_key = "/k/hv"\nssh_certificate = "/k/hv-cert.pub"\n[guests.web1]\ncid = 3\nhostname = "web1"\nssh_private_key = "/k/guest"\n`,
    );
    assert.equal(g.hop.auth.privateKeyFile, "/k/guest");
    assert.equal(g.hop.auth.certificateFile, undefined);
    assert.equal(g.hypervisor.auth.certificateFile, "/k/hv-cert.pub");
  });

  test("goes with ssh_use_agent = true (the agent holds the certificate's key)", () => {
    const loaded = loadToml(`${HV}ssh_use_agent = true\nssh_certificate = "/k/c-cert.pub"\n[guests.web1]\ncid = 3\nhostname = "web1"\n`, {
      SSH_AUTH_SOCK: "/run/agent",
    });
    assert.equal(loaded.guests[0]!.hypervisor.auth.certificateFile, "/k/c-cert.pub");
    assert.equal(loaded.guests[0]!.hypervisor.auth.useAgent, true);
  });

  test("without ssh_private_key or the agent in the same block is a configuration error at its path", () => {
    for (const auth of ['password = "pw"', ""]) {
      const problems = problemsOf(`${HV}${auth}\nssh_certificate = "/k/c-cert.pub"\n[guests.web1]\ncid = 3\nhostname = "web1"\n`);
      const p = problems.find((x) => x.path === "hypervisor.ssh_certificate");
      assert.ok(p, `no problem for ${auth || "no mechanism"}: ${JSON.stringify(problems)}`);
      assert.match(p.message, /ssh_certificate without ssh_private_key \(or ssh_use_agent = true\) in the same block/);
    }
    const guestLevel = problemsOf(`${HV}ssh_private_key = "/k/hv"\n[guests.web1]\ncid = 3\nhostname = "web1"\nssh_certificate = "/k/c-cert.pub"\n`);
    assert.ok(guestLevel.some((x) => x.path === "guests.web1.ssh_certificate"), "a key one level up does not count");
  });
});

describe("config check of certificate files", () => {
  const dir = mkdtempSync(join(tmpdir(), "s2v-cfgcert-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const keygen = (...args: string[]) => execFileSync("ssh-keygen", ["-q", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const ca = join(dir, "ca");
  keygen("-t", "ed25519", "-N", "", "-f", ca);
  const key = (name: string, sign?: string[]) => {
    const k = join(dir, name);
    keygen("-t", "ed25519", "-N", "", "-f", k);
    if (sign) keygen("-s", ca, "-I", name, ...sign, `${k}.pub`);
    return k;
  };
  const good = key("good", ["-n", "root", "-V", "-5m:+1h"]);
  const old = key("old", ["-n", "root", "-V", "20200101:20200102"]);
  const host = key("host", ["-h", "-n", "hv1.example.com", "-V", "-5m:+1h"]);
  const encrypted = join(dir, "enc");
  keygen("-t", "ed25519", "-N", "secret words", "-f", encrypted);
  keygen("-s", ca, "-I", "enc", "-n", "root", `${encrypted}.pub`);

  const check = (auth: string) => {
    const loaded = loadToml(`${HV}${auth}\n[guests.web1]\ncid = 3\nhostname = "web1"\n`);
    return checkCertificateFiles(loaded, (p) => readFileSync(p), new Date());
  };

  test("a user certificate for the key, named or beside it, passes", () => {
    assert.deepEqual(check(`ssh_private_key = "${good}"\nssh_certificate = "${good}-cert.pub"`), { errors: [], warnings: [] });
    assert.deepEqual(check(`ssh_private_key = "${good}"`), { errors: [], warnings: [] });
  });

  test("refuses a host certificate used as ssh_certificate", () => {
    const r = check(`ssh_private_key = "${host}"\nssh_certificate = "${host}-cert.pub"`);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.path, "hypervisor.ssh_certificate");
    assert.match(r.errors[0]!.message, /host-cert\.pub: it is a host certificate, not a user certificate/);
  });

  test("refuses a certificate of another key, also when the key is encrypted (its .pub is compared)", () => {
    for (const k of [good, encrypted]) {
      const r = check(`ssh_private_key = "${k}"\nssh_certificate = "${old}-cert.pub"`);
      assert.equal(r.errors.length, 1, JSON.stringify(r));
      assert.match(r.errors[0]!.message, /certifies key SHA256:\S+ \(ssh-ed25519\), not this private key's SHA256:/);
    }
    assert.deepEqual(check(`ssh_private_key = "${encrypted}"\nssh_certificate = "${encrypted}-cert.pub"`).errors, []);
  });

  test("says when the certificate has expired, as a warning", () => {
    const r = check(`ssh_private_key = "${old}"`);
    assert.deepEqual(r.errors, []);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!.message, /expired \(valid until 2020-01-0\d/);
  });

  test("refuses a named certificate file that is missing or not a certificate", () => {
    assert.match(check(`ssh_private_key = "${good}"\nssh_certificate = "${dir}/none"`).errors[0]!.message, /cannot read it: no such file or directory/);
    assert.match(check(`ssh_private_key = "${good}"\nssh_certificate = "${good}.pub"`).errors[0]!.message, /not a certificate type/);
  });

  test("only warns about an automatic KEY-cert.pub that does not fit (login skips it)", () => {
    const r = check(`ssh_private_key = "${host}"`);
    assert.deepEqual(r.errors, []);
    assert.match(r.warnings[0]!.message, /used automatically\): it is a host certificate/);
    assert.equal(r.warnings[0]!.path, "hypervisor.ssh_private_key");
  });
});
