// Host certificates end to end: guests whose sshd presents certificates made with ssh-keygen -s,
// trusted only through @cert-authority lines (splice tunnel, proxy), and every way one is refused.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startLab, type Lab, type LabGuest } from "../lab/lab.ts";
import { cliCommand, cliShell, runCommand, startCli } from "./_cli.ts";
import { fingerprintOf, guestBlock, hypervisorBlock, knownHostsFor, tunnelOutcome, writeConfig, writeKnownHosts } from "./_fixtures.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({
    guests: 8,
    certificates: true,
    guestVariants: {
      g1: "host-cert",
      g2: "host-cert-ecdsa",
      g3: "host-cert-rsa",
      g4: "host-cert-other-ca",
      g5: "host-cert-expired",
      g6: "host-cert-not-yet-valid",
      g7: "host-cert-wrong-principals",
      g8: "host-cert-user",
    },
  });
});
after(async () => {
  await lab?.stop();
});

const guest = (name: string): LabGuest => lab.guests.find((g) => g.name === name)!;
const ca = () => lab.certificates!;
/** `@cert-authority PATTERN <hostCa>`: the only trust the guests get in this file. */
const authorityLine = (pattern = "*.lab.test", caPub = ca().hostCaPub) => knownHostsFor(pattern, caPub, "@cert-authority");

/** The certificate algorithm an OpenSSH client must negotiate to be shown each guest's certificate. */
const certAlgorithm: Record<string, string> = {
  g1: "ssh-ed25519-cert-v01@openssh.com",
  g2: "ecdsa-sha2-nistp256-cert-v01@openssh.com",
  g3: "rsa-sha2-512-cert-v01@openssh.com",
};

/** A config whose guest `name` is trusted only by `lines` (a known_hosts file), the hypervisor as the lab has it. */
function configTrusting(file: string, name: string, lines: string[], extra: Record<string, string> = {}): string {
  const kh = writeKnownHosts(lab, file, lines);
  return writeConfig(lab, file, hypervisorBlock(lab) + guestBlock(lab, name, { known_hosts_file: JSON.stringify(kh), ...extra }));
}

/**
 * A real OpenSSH client's trust and identity: a known_hosts holding only the @cert-authority line,
 * HostKeyAlias naming the guest, and the guest's certificate algorithm as the only one allowed.
 */
function outerClient(name: string, extra: string[] = []): string[] {
  const kh = writeKnownHosts(lab, `client-${name}`, [authorityLine()]);
  return [
    "-F", "/dev/null",
    "-i", lab.clientKey,
    "-o", "IdentitiesOnly=yes",
    "-o", "IdentityAgent=none",
    "-o", "BatchMode=yes",
    "-o", `UserKnownHostsFile=${kh}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "StrictHostKeyChecking=yes",
    "-o", `HostKeyAlias=${name}.lab.test`,
    "-o", `HostKeyAlgorithms=${certAlgorithm[name] ?? "ssh-ed25519-cert-v01@openssh.com"}`,
    ...extra,
  ];
}

async function withTunnel<T>(args: string[], body: (port: number, cli: ReturnType<typeof startCli>) => Promise<T>): Promise<T> {
  const cli = startCli(["tunnel", "-v", ...args]);
  try {
    const [line] = await cli.lines(1);
    return await body(Number(line!.split(":").at(-1)), cli);
  } finally {
    const { code } = await cli.stop("SIGTERM");
    assert.equal(code, 0, cli.stderr());
  }
}

/** The proxy's own exit status, recorded by a wrapper around it: ssh reports only its own (255). */
function recordingProxy(file: string, cfg: string): { command: string; status: () => string } {
  const status = join(lab.dir, `${file}.status`);
  const wrapper = join(lab.dir, `${file}.sh`);
  writeFileSync(wrapper, `#!/bin/sh\ntrap "" HUP\n"$@"\necho $? > ${status}\n`, { mode: 0o755 });
  return { command: `${wrapper} ${cliShell()} -v -c ${cfg} proxy %h %p`, status: () => readFileSync(status, "utf8").trim() };
}

/** ssh args into a lab guest through the hypervisor's socat, OpenSSH trusting only `knownHosts`. */
function throughHypervisor(g: LabGuest, knownHosts: string, extra: string[] = []): string[] {
  const base = ["-F", "/dev/null", "-i", lab.clientKey, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes"];
  const hop = ["ssh", ...base, "-o", `UserKnownHostsFile=${lab.knownHostsFile}`, "-p", String(lab.hypervisor.port), "root@127.0.0.1", "socat", "-", `VSOCK-CONNECT:${g.cid}:22`];
  return [...base, "-o", `UserKnownHostsFile=${knownHosts}`, "-o", `HostKeyAlias=${g.name}.lab.test`, "-o", `ProxyCommand=${hop.join(" ")}`, ...extra, `root@${g.name}`];
}

describe("the lab's certificate guests, checked by OpenSSH's own client", () => {
  test("OpenSSH accepts the sound certificates of g1 (each key type), g2 and g3 through the CA line alone", async () => {
    const kh = writeKnownHosts(lab, "oracle-ok", [authorityLine()]);
    const cases = [
      ["g1", "ssh-ed25519-cert-v01@openssh.com"],
      ["g1", "ecdsa-sha2-nistp256-cert-v01@openssh.com"],
      ["g1", "rsa-sha2-256-cert-v01@openssh.com"],
      ["g2", certAlgorithm.g2!],
      ["g3", certAlgorithm.g3!],
    ];
    for (const [name, alg] of cases) {
      const r = await runCommand("ssh", [...throughHypervisor(guest(name!), kh, ["-o", `HostKeyAlgorithms=${alg}`]), "ip netns identify"]);
      assert.equal(r.code, 0, `${name} ${alg}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), guest(name!).netns);
    }
    assert.deepEqual(Object.keys(guest("g1").hostCertificateFiles ?? {}).sort(), ["ecdsa", "ed25519", "rsa"]);
  });

  test("OpenSSH refuses g4 to g8 for the reasons their certificates were made with", async () => {
    const kh = writeKnownHosts(lab, "oracle-refused", [authorityLine()]);
    const expected: Array<[string, RegExp]> = [
      ["g4", /No ED25519 host key is known/],
      ["g5", /Certificate invalid: expired/],
      ["g6", /Certificate invalid: not yet valid/],
      ["g7", /Certificate invalid: name is not a listed principal/],
      ["g8", /Certificate invalid: not a host certificate/],
    ];
    for (const [name, why] of expected) {
      const r = await runCommand("ssh", [...throughHypervisor(guest(name), kh, ["-o", "HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com"]), "echo should-not-run"]);
      assert.equal(r.code, 255, `${name}: ${r.stdout}`);
      assert.match(r.stderr, why, name);
    }
    // g4's certificate is sound under the CA that made it.
    const other = writeKnownHosts(lab, "oracle-other", [authorityLine("*.lab.test", ca().otherCaPub)]);
    const r = await runCommand("ssh", [...throughHypervisor(guest("g4"), other, ["-o", "HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com"]), "echo in"]);
    assert.equal(r.code, 0, r.stderr);
  });
});

describe("a guest trusted only by @cert-authority", () => {
  for (const name of ["g1", "g2", "g3"]) {
    test(`splice tunnel: ${name}'s ${certAlgorithm[name]} certificate is verified at start, and a real ssh logs in through the tunnel`, async () => {
      const cfg = configTrusting(`tunnel-${name}`, name, [authorityLine()]);
      await withTunnel(["-c", cfg, name], async (port, cli) => {
        assert.match(cli.stderr(), new RegExp(`verified \\[guest=${name}\\]`));
        // The fingerprint logged is the certified key's, as `ssh-keygen -l` prints it, not the certificate blob's.
        const certified = guest(name).hostKeyPubFiles[certAlgorithm[name]!.startsWith("ssh-ed25519") ? "ed25519" : certAlgorithm[name]!.startsWith("ecdsa") ? "ecdsa" : "rsa"]!;
        assert.ok(cli.stderr().includes(fingerprintOf(certified)), cli.stderr());
        const r = await runCommand("ssh", [...outerClient(name, ["-p", String(port)]), "root@127.0.0.1", "ip netns identify"]);
        assert.equal(r.code, 0, `${r.stderr}\n--- ssh2vsock:\n${cli.stderr()}`);
        assert.equal(r.stdout.trim(), guest(name).netns);
      });
    });
  }

  test("splice tunnel: a client that negotiates the guest's plain key is closed, since only the CA is trusted", async () => {
    const cfg = configTrusting("tunnel-plain", "g1", [authorityLine()]);
    await withTunnel(["-c", cfg, "g1"], async (port) => {
      const kh = writeKnownHosts(lab, "client-plain", Object.values(guest("g1").hostKeyPubFiles).map((p) => knownHostsFor("g1.lab.test", p)));
      const args = outerClient("g1", ["-p", String(port)]).map((a) =>
        a.startsWith("HostKeyAlgorithms=") ? "HostKeyAlgorithms=ssh-ed25519" : a.startsWith("UserKnownHostsFile=") ? `UserKnownHostsFile=${kh}` : a);
      const r = await runCommand("ssh", [...args, "root@127.0.0.1", "echo should-not-run"]);
      assert.equal(r.code, 255);
      assert.doesNotMatch(r.stdout, /should-not-run/);
    });
  });

  test("proxy with the @cert-authority line inline in the config: a real ssh logs in, and its own exit is 0", async () => {
    const cfg = writeConfig(lab, "proxy-inline", hypervisorBlock(lab) + guestBlock(lab, "g1", {
      known_hosts_file: "",
      known_hosts: JSON.stringify([authorityLine("g1.lab.test")]),
    }));
    const proxy = recordingProxy("proxy-inline", cfg);
    const r = await runCommand("ssh", [...outerClient("g1", ["-o", `ProxyCommand=${proxy.command}`]), "root@g1", "ip netns identify"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), guest("g1").netns);
    assert.match(r.stderr, /verified/);
  });

  for (const name of ["g2", "g3"]) {
    test(`proxy: ${name}'s ${certAlgorithm[name]} certificate, the CA line in a known_hosts file`, async () => {
      const cfg = configTrusting(`proxy-${name}`, name, [authorityLine()]);
      const r = await runCommand("ssh", [...outerClient(name, ["-o", `ProxyCommand=${cliShell()} -c ${cfg} proxy %h %p`]), `root@${name}`, "ip netns identify"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), guest(name).netns);
    });
  }
});

describe("refused host certificates exit 3 with the reason", () => {
  const refusals: Array<[string, string, RegExp]> = [
    ["g4", "a certificate from a CA no @cert-authority line trusts", /no @cert-authority line trusts/],
    ["g5", "an expired certificate", /expired/],
    ["g6", "a certificate not yet valid", /not yet valid/],
    ["g7", "a certificate whose principals do not name the guest", /principals.*do not name g7\.lab\.test/],
    ["g8", "a user certificate presented as host certificate", /user certificate/],
  ];

  for (const [name, what, reason] of refusals) {
    test(`splice tunnel: ${what}`, async () => {
      const out = await tunnelOutcome(configTrusting(`refuse-${name}`, name, [authorityLine()]), name);
      assert.equal(out.ready, false);
      assert.equal(out.code, 3, out.stderr);
      assert.match(out.stderr, /host certificate.*refused/);
      assert.match(out.stderr, reason);
    });
  }

  test("the refusal names the certificate's key ID, serial, principals, validity and the CA's fingerprint", async () => {
    const out = await tunnelOutcome(configTrusting("refuse-details", "g5", [authorityLine()]), "g5");
    assert.equal(out.code, 3, out.stderr);
    assert.ok(out.stderr.includes("lab-g5-host-cert-expired"), out.stderr);
    assert.match(out.stderr, /serial 7/);
    assert.ok(out.stderr.includes("g5.lab.test"), out.stderr);
    assert.match(out.stderr, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    assert.ok(out.stderr.includes(fingerprintOf(ca().hostCaPub)), out.stderr);
  });

  test("a certificate from another CA names that CA's fingerprint", async () => {
    const out = await tunnelOutcome(configTrusting("refuse-other-fp", "g4", [authorityLine()]), "g4");
    assert.equal(out.code, 3, out.stderr);
    assert.ok(out.stderr.includes(fingerprintOf(ca().otherCaPub)), out.stderr);
  });

  test("the CA key marked @revoked is refused although a @cert-authority line trusts it", async () => {
    const out = await tunnelOutcome(configTrusting("refuse-revoked-ca", "g1", [authorityLine(), knownHostsFor("*", ca().hostCaPub, "@revoked")]), "g1");
    assert.equal(out.ready, false);
    assert.equal(out.code, 3, out.stderr);
    assert.match(out.stderr, /revoked/);
    assert.ok(out.stderr.includes(fingerprintOf(ca().hostCaPub)), out.stderr);
  });

  test("the certified key marked @revoked is refused although its certificate is sound", async () => {
    const revoked = knownHostsFor("g1.lab.test", guest("g1").hostKeyPubFiles.ed25519!, "@revoked");
    const cfg = configTrusting("refuse-revoked-key", "g1", [authorityLine(), revoked]);
    const out = await tunnelOutcome(cfg, "g1");
    assert.equal(out.ready, false);
    assert.equal(out.code, 3, out.stderr);
    assert.match(out.stderr, /revoked/);
  });

  test("a @cert-authority line whose patterns do not match the guest's hostname (or negate it) trusts nothing", async () => {
    const lines = [authorityLine("*.other.test"), authorityLine("g1.lab"), authorityLine("*.lab.test,!g1.lab.test")];
    const out = await tunnelOutcome(configTrusting("refuse-pattern", "g1", lines), "g1");
    assert.equal(out.ready, false);
    assert.equal(out.code, 3, out.stderr);
  });

  test("proxy: an expired certificate stops the proxy with exit 3 before the client sees the guest's reply", async () => {
    const cfg = configTrusting("proxy-expired", "g5", [authorityLine()]);
    const proxy = recordingProxy("proxy-expired", cfg);
    // The outer client checks nothing itself here: only ssh2vsock stands between it and the guest.
    const args = outerClient("g5", ["-o", `ProxyCommand=${proxy.command}`]).map((a) =>
      a.startsWith("UserKnownHostsFile=") ? "UserKnownHostsFile=/dev/null" : a === "StrictHostKeyChecking=yes" ? "StrictHostKeyChecking=no" : a);
    const r = await runCommand("ssh", [...args, "root@g5", "echo should-not-run"]);
    assert.equal(r.code, 255);
    assert.doesNotMatch(r.stdout, /should-not-run/);
    assert.match(r.stderr, /host certificate.*refused.*expired/);
    assert.equal(proxy.status(), "3");
  });

  test("proxy: a user certificate presented as host certificate stops the proxy with exit 3", async () => {
    const cfg = configTrusting("proxy-user-cert", "g8", [authorityLine()]);
    const proxy = recordingProxy("proxy-user-cert", cfg);
    const args = outerClient("g8", ["-o", `ProxyCommand=${proxy.command}`]);
    const r = await runCommand("ssh", [...args, "root@g8", "echo should-not-run"]);
    assert.equal(r.code, 255);
    assert.doesNotMatch(r.stdout, /should-not-run/);
    assert.match(r.stderr, /user certificate/);
    assert.equal(proxy.status(), "3");
  });
});

describe("hops that ssh2 opens itself cannot use a @cert-authority line", () => {
  const hintPlainKey = /hint:[^]*plain key/;

  test("a hypervisor trusted only by @cert-authority fails before connecting: exit 3, @cert-authority named, hint to add its plain key", async () => {
    const kh = writeKnownHosts(lab, "hv-ca-only", [authorityLine(`[127.0.0.1]:${lab.hypervisor.port}`)]);
    const cfg = writeConfig(lab, "hv-ca-only", hypervisorBlock(lab, { known_hosts_file: JSON.stringify(kh) }) + guestBlock(lab, "g1", {
      known_hosts: JSON.stringify([authorityLine()]),
      known_hosts_file: "",
    }));
    const before = lab.hypervisorConnectionCount();
    const out = await tunnelOutcome(cfg, "g1");
    assert.equal(out.ready, false);
    assert.equal(out.code, 3, out.stderr);
    assert.match(out.stderr, /@cert-authority/);
    assert.match(out.stderr, hintPlainKey);
    assert.equal(lab.hypervisorConnectionCount(), before, "the hypervisor was connected to");
  });

  test("a guest in forward mode trusted only by @cert-authority fails the same way", async () => {
    const cfg = configTrusting("forward-ca-only", "g1", [authorityLine()], { mode: `"forward"` });
    const out = await tunnelOutcome(cfg, "g1");
    assert.equal(out.ready, false);
    assert.equal(out.code, 3, out.stderr);
    assert.match(out.stderr, /@cert-authority/);
    assert.match(out.stderr, hintPlainKey);
  });

  test("a guest in forward mode (--mode forward) with its plain key beside the CA line still works", async () => {
    const plain = knownHostsFor("g1.lab.test", guest("g1").hostKeyPubFiles.ed25519!);
    const cfg = configTrusting("forward-plain", "g1", [authorityLine(), plain]);
    await withTunnel(["-c", cfg, "--mode", "forward", "g1"], async (port) => {
      const kh = writeKnownHosts(lab, "client-forward-plain", [plain]);
      const r = await runCommand("ssh", [
        "-F", "/dev/null", "-i", lab.clientKey, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
        "-o", `UserKnownHostsFile=${kh}`, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
        "-o", "HostKeyAlias=g1.lab.test", "-o", "HostKeyAlgorithms=ssh-ed25519", "-p", String(port), "root@127.0.0.1", "ip netns identify",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), guest("g1").netns);
    });
  });
});

describe("doctor on certificate guests", () => {
  const report = async (cfg: string, target: string) => {
    const r = await runCommand(cliCommand()[0]!, [...cliCommand().slice(1), "doctor", "-c", cfg, "--json", "--no-input", target]);
    return { code: r.code, doc: JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ id: string; status: string; detail: string; hint?: string }> } };
  };
  const check = (doc: { checks: Array<{ id: string; status: string; detail: string; hint?: string }> }, id: string) => doc.checks.find((c) => c.id === id)!;

  test("a splice guest trusted only by its CA passes, with the certificate's key ID, serial, principals, validity and CA shown", async () => {
    const { code, doc } = await report(configTrusting("doctor-ok", "g1", [authorityLine()]), "g1");
    assert.equal(code, 0, JSON.stringify(doc.checks));
    const hk = check(doc, "guest-host-key");
    assert.equal(hk.status, "pass", hk.detail);
    for (const part of ["lab-g1-host-cert", "serial 7", "g1.lab.test", fingerprintOf(ca().hostCaPub), "@cert-authority"]) assert.ok(hk.detail.includes(part), `${part}: ${hk.detail}`);
    assert.equal(check(doc, "guest-auth").status, "skip");
  });

  test("an expired certificate fails the guest host key check with the reason, and doctor exits 1", async () => {
    const { code, doc } = await report(configTrusting("doctor-expired", "g5", [authorityLine()]), "g5");
    assert.equal(code, 1);
    const hk = check(doc, "guest-host-key");
    assert.equal(hk.status, "fail");
    assert.match(hk.detail, /host certificate.*refused.*expired/);
  });

  test("a forward-mode guest trusted only by its CA fails the guest host key check with the plain-key hint", async () => {
    const { code, doc } = await report(configTrusting("doctor-forward", "g1", [authorityLine()], { mode: `"forward"` }), "g1");
    assert.equal(code, 1);
    const hk = check(doc, "guest-host-key");
    assert.equal(hk.status, "fail");
    assert.match(hk.detail, /@cert-authority/);
    assert.match(hk.hint ?? "", /plain key/);
  });
});
