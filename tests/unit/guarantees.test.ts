// weakenedGuarantees: which settings weaken what ssh2vsock guarantees, each said once with a
// stable code, from the configuration as loaded, the listeners of this run and the file's mode.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { weakenedGuarantees, type GuaranteeInput } from "../../src/core/guarantees.ts";
import { checkGuarantees } from "../../src/core/doctor/guarantees.ts";
import { FILE, HV, WEB1, loadToml } from "./_config-fixtures.ts";

/** The warnings for `toml` as `tunnel` would see them (its listeners, file mode 0600 unless given). */
function warningsOf(toml: string, extra: Partial<GuaranteeInput> = {}) {
  const loaded = loadToml(toml);
  return weakenedGuarantees({
    guests: loaded.guests,
    hypervisors: loaded.defaultHypervisor ? [loaded.defaultHypervisor] : [],
    listeners: true,
    configFile: { path: FILE, mode: 0o600 },
    ...extra,
  });
}

const codes = (ws: { code: string }[]) => ws.map((w) => w.code);

describe("weakenedGuarantees", () => {
  test("a plain configuration weakens nothing", () => {
    assert.deepEqual(warningsOf(HV + WEB1 + `listen = "127.0.0.1:2201"\n`), []);
  });

  describe("listen-not-loopback", () => {
    for (const host of ["0.0.0.0", "192.0.2.7", "::", "[::]", "2001:db8::1", "myhost.example.com"]) {
      test(`a listener on ${host} is reachable from other machines`, () => {
        const listen = host.includes(":") && !host.startsWith("[") ? `[${host}]:2201` : `${host}:2201`;
        const ws = warningsOf(HV + WEB1 + `listen = ${JSON.stringify(listen)}\n`);
        assert.deepEqual(codes(ws), ["listen-not-loopback"]);
        assert.equal(ws[0]!.guest, "web1");
        assert.match(ws[0]!.message, /web1.*listens on .*2201.*other machines/);
        assert.match(ws[0]!.hint, /127\.0\.0\.1/);
      });
    }
    for (const listen of ["127.0.0.1:0", "127.1.2.3:2201", "[::1]:2201", "localhost:2201"]) {
      test(`a listener on ${listen} is loopback`, () => {
        assert.deepEqual(warningsOf(HV + WEB1 + `listen = ${JSON.stringify(listen)}\n`), []);
      });
    }
    test("is not said when this run opens no listener (proxy)", () => {
      assert.deepEqual(warningsOf(HV + WEB1 + `listen = "0.0.0.0:2201"\n`, { listeners: false }), []);
    });
  });

  test("host-key-ignored: ssh_ignore_host_key in effect on a guest", () => {
    const ws = warningsOf(HV + `[guests.web1]\ncid = 3\nssh_ignore_host_key = true\n`);
    assert.deepEqual(codes(ws), ["host-key-ignored"]);
    assert.equal(ws[0]!.guest, "web1");
    assert.match(ws[0]!.message, /guests\.web1\.ssh_ignore_host_key/);
    assert.match(ws[0]!.message, /any key/);
  });

  describe("sshfp-plain-dns", () => {
    const sshfp = (resolver: string, extra = "") => `[guests.web1]\ncid = 3\nhostname = "web1.example.com"\nuse_sshfp = true\ndns_resolver = "${resolver}"\n${extra}`;
    test("SSHFP over plain TCP from a resolver on another machine: the AD bit can be forged on the way", () => {
      const ws = warningsOf(HV + sshfp("192.0.2.53:53"));
      assert.deepEqual(codes(ws), ["sshfp-plain-dns"]);
      assert.match(ws[0]!.message, /192\.0\.2\.53:53/);
      assert.match(ws[0]!.message, /guests\.web1/);
      assert.match(ws[0]!.message, /AD bit/);
      assert.match(ws[0]!.hint, /ca_file/);
    });
    test("an IPv6 resolver off this machine too", () => {
      assert.deepEqual(codes(warningsOf(HV + sshfp("[2001:db8::53]:53"))), ["sshfp-plain-dns"]);
    });
    test("a resolver on loopback (a local validating resolver) is fine", () => {
      assert.deepEqual(warningsOf(HV + sshfp("127.0.0.53:53")), []);
      assert.deepEqual(warningsOf(HV + sshfp("[::1]:53")), []);
    });
    test("DNS-over-TLS (ca_file) is fine", () => {
      assert.deepEqual(warningsOf(HV + sshfp("192.0.2.53:853", `ca_file = "/ca.pem"\n`)), []);
    });
    test("said once per resolver, naming every hop that uses it, hypervisor included", () => {
      const hv = `[hypervisor]\nhostname = "hv1.example.com"\nuse_sshfp = true\ndns_resolver = "192.0.2.53:53"\nssh_use_agent = true\n`;
      const guests = `[guests.web1]\ncid = 3\nhostname = "web1.example.com"\n[guests.web2]\ncid = 4\nhostname = "web2.example.com"\nuse_sshfp = true\ndns_resolver = "192.0.2.53:53"\n`;
      const ws = warningsOf(hv + guests);
      assert.deepEqual(codes(ws), ["sshfp-plain-dns"]);
      // web1 inherits the hypervisor's verification group; web2 sets its own.
      assert.match(ws[0]!.message, /SSHFP records for hypervisor, guests\.web2 come over plain DNS from 192\.0\.2\.53:53/);
    });
  });

  describe("config-secrets-readable", () => {
    const withPassword = HV.replace("ssh_use_agent = true", `password = "S3cret"`) + WEB1;
    for (const mode of [0o644, 0o640, 0o604]) {
      test(`a file holding a password with mode ${mode.toString(8)} is readable by others`, () => {
        const ws = warningsOf(withPassword, { configFile: { path: FILE, mode } });
        assert.deepEqual(codes(ws), ["config-secrets-readable"]);
        assert.match(ws[0]!.message, new RegExp(`${FILE}.*password or passphrase.*0${mode.toString(8)}`));
        assert.match(ws[0]!.hint, /chmod 600/);
        assert.doesNotMatch(JSON.stringify(ws), /S3cret/, "the secret itself never appears");
      });
    }
    test("a passphrase counts too", () => {
      const toml = HV + `[guests.web1]\ncid = 3\nhostname = "web1.example.com"\nssh_private_key = "/k"\nssh_private_key_passphrase = "pp"\n`;
      assert.deepEqual(codes(warningsOf(toml, { configFile: { path: FILE, mode: 0o644 } })), ["config-secrets-readable"]);
    });
    test("mode 0600 is fine, and so is a readable file without secrets", () => {
      assert.deepEqual(warningsOf(withPassword, { configFile: { path: FILE, mode: 0o600 } }), []);
      assert.deepEqual(warningsOf(HV + WEB1, { configFile: { path: FILE, mode: 0o644 } }), []);
    });
    test("no file, nothing to say", () => {
      assert.deepEqual(warningsOf(withPassword, { configFile: undefined }), []);
    });
  });

  test("every warning has a stable code, one line of message and a hint; several come in a fixed order", () => {
    const toml = HV.replace("ssh_use_agent = true", `password = "x"`) + `[guests.web1]\ncid = 3\nssh_ignore_host_key = true\nlisten = "0.0.0.0:1"\n`;
    const ws = warningsOf(toml, { configFile: { path: FILE, mode: 0o644 } });
    assert.deepEqual(codes(ws), ["listen-not-loopback", "host-key-ignored", "config-secrets-readable"]);
    for (const w of ws) {
      assert.doesNotMatch(w.message, /\n/);
      assert.ok(w.hint.length > 0);
    }
  });
});

describe("doctor's guarantees check", () => {
  const withPassword = HV.replace("ssh_use_agent = true", `password = "S3cret"`) + WEB1 + `listen = "0.0.0.0:2201"\n`;
  test("warns with each code and its message, hints joined, from the file's mode it is given", () => {
    const loaded = loadToml(withPassword);
    const { verdict } = checkGuarantees(loaded.guests[0]!, { load: () => loaded, fileMode: () => 0o640 });
    assert.equal(verdict.status, "warn");
    assert.match(verdict.detail, /^listen-not-loopback: .*; config-secrets-readable: .*its group can read it \(mode 0640\)$/);
    assert.match(verdict.hint ?? "", /listen on 127\.0\.0\.1.*; chmod 600/);
  });
  test("passes when nothing is weakened", () => {
    const loaded = loadToml(HV + WEB1);
    assert.equal(checkGuarantees(loaded.guests[0]!, { load: () => loaded, fileMode: () => 0o644 }).verdict.status, "pass");
  });
});
