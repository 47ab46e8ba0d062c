// Splice mode and the verifying `proxy`, end to end: real OpenSSH clients through ssh2vsock into
// real guests (OpenSSH, one refusing forwarding, tinysshd); the guest's key checked in the client's own handshake.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startLab, type Lab } from "../lab/lab.ts";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliShell, runCommand, startCli } from "./_cli.ts";
import { fingerprintOf, guestBlock, hypervisorBlock, knownHostsFor, sshThroughTunnel, sshViaProxy, tunnelOutcome, writeConfig, writeKnownHosts } from "./_fixtures.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 5, guestVariants: { g3: "no-forwarding", g4: "tinysshd", g5: "rsa-only" } });
});
after(async () => {
  await lab?.stop();
});

const guest = (name: string) => lab.guests.find((g) => g.name === name)!;
const user = (name: string) => guest(name).loginUser ?? "root";

/** A config whose guest g1 trusts only `lines` (hypervisor as the lab has it). */
function configTrusting(name: string, lines: string[], extra: Record<string, string> = {}): string {
  const kh = writeKnownHosts(lab, name, lines);
  return writeConfig(lab, name, hypervisorBlock(lab) + guestBlock(lab, "g1", { known_hosts_file: JSON.stringify(kh), ...extra }));
}

async function withTunnel<T>(args: string[], body: (port: number, cli: ReturnType<typeof startCli>) => Promise<T>): Promise<T> {
  const cli = startCli(["tunnel", "-v", ...args]);
  try {
    const [line] = await cli.lines(1);
    const port = line.startsWith("{") ? (JSON.parse(line) as { port: number }).port : Number(line.split(":").at(-1));
    return await body(port, cli);
  } finally {
    const { code } = await cli.stop("SIGTERM");
    assert.equal(code, 0, cli.stderr());
  }
}

describe("splice tunnel", () => {
  test("is the default for the guest's SSH port: the ready line comes after the guest's key is verified, and ssh lands in the guest", async () => {
    await withTunnel(["-c", lab.configFile, "--json", "g1"], async (port, cli) => {
      assert.match(cli.stderr(), /verified \[guest=g1\]: ssh-ed25519 SHA256:/);
      assert.match(cli.stderr(), /listening \[guest=g1\]: 127\.0\.0\.1:\d+ \(splice\)/);
      const r = await runCommand("ssh", [...sshThroughTunnel(lab, port, "g1"), "ip netns identify"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), guest("g1").netns);
    });
  });

  test("reaches a guest whose sshd refuses port forwarding (AllowTcpForwarding no)", async () => {
    await withTunnel(["-c", lab.configFile, "g3"], async (port) => {
      const r = await runCommand("ssh", [...sshThroughTunnel(lab, port, "g3"), "ip netns identify"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), guest("g3").netns);
    });
  });

  test("reaches a tinysshd guest, which has no port forwarding at all", async () => {
    await withTunnel(["-c", lab.configFile, "g4"], async (port) => {
      const r = await runCommand("ssh", [...sshThroughTunnel(lab, port, "g4", user("g4")), "echo hello"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "hello");
    });
  });

  for (const kex of ["curve25519-sha256", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256", "diffie-hellman-group-exchange-sha256", "sntrup761x25519-sha512@openssh.com"]) {
    test(`verifies the guest in a ${kex} key exchange forced by the client`, async () => {
      await withTunnel(["-c", lab.configFile, "g1"], async (port, cli) => {
        const r = await runCommand("ssh", ["-o", `KexAlgorithms=${kex}`, ...sshThroughTunnel(lab, port, "g1"), "echo in"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), "in");
        await waitFor(() => new RegExp(`verified.*\\(${kex.replace(/[.@]/g, "\\$&")};`).test(cli.stderr()), cli.stderr);
      });
    });
  }

  test("a guest presenting another key fails at start with exit 3, naming the presented fingerprint and the source", async () => {
    const lines = Object.values(guest("g2").hostKeyPubFiles).map((p) => knownHostsFor("g1.lab.test", p));
    const cfg = configTrusting("splice-wrong", lines);
    const out = await tunnelOutcome(cfg, "g1");
    assert.equal(out.ready, false);
    assert.equal(out.code, 3, out.stderr);
    assert.match(out.stderr, /CHANGED/);
    assert.ok(out.stderr.includes(fingerprintOf(guest("g1").hostKeyPubFiles.ed25519!)), out.stderr);
    assert.ok(out.stderr.includes("splice-wrong.known_hosts"), out.stderr);
  });

  test("a connection whose client negotiates an untrusted key type is closed before the server's reply and logged; the tunnel keeps serving", async () => {
    const cfg = configTrusting("splice-ecdsa-only", [knownHostsFor("g1.lab.test", guest("g1").hostKeyPubFiles.ecdsa!)]);
    await withTunnel(["-c", cfg, "g1"], async (port, cli) => {
      const refused = await runCommand("ssh", ["-o", "HostKeyAlgorithms=ssh-ed25519", ...sshThroughTunnel(lab, port, "g1"), "true"]);
      assert.equal(refused.code, 255);
      assert.doesNotMatch(refused.stderr, /Host key verification failed|REMOTE HOST IDENTIFICATION/, "the client never saw the guest's reply");
      await waitFor(() => /refused.*ssh-ed25519/.test(cli.stderr()), cli.stderr);
      const ok = await runCommand("ssh", ["-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256", ...sshThroughTunnel(lab, port, "g1"), "echo still"]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), "still");
    });
  });

  test("a client that allows only SHA-1 ssh-rsa signatures is refused although the guest's RSA key is trusted", async () => {
    const kh = writeKnownHosts(lab, "splice-rsa", [knownHostsFor("g5.lab.test", guest("g5").hostKeyPubFiles.rsa!)]);
    const cfg = writeConfig(lab, "splice-rsa", hypervisorBlock(lab) + guestBlock(lab, "g5", { known_hosts_file: JSON.stringify(kh) }));
    await withTunnel(["-c", cfg, "g5"], async (port, cli) => {
      // The guest offers ssh-rsa (HostKeyAlgorithms +ssh-rsa), so the pair really negotiates it.
      const sha1 = await runCommand("ssh", ["-o", "HostKeyAlgorithms=ssh-rsa", ...sshThroughTunnel(lab, port, "g5"), "echo should-not-run"]);
      assert.equal(sha1.code, 255);
      assert.doesNotMatch(sha1.stdout, /should-not-run/);
      await waitFor(() => /SHA-1 ssh-rsa signatures are never accepted/.test(cli.stderr()), cli.stderr);
      const sha2 = await runCommand("ssh", ["-o", "HostKeyAlgorithms=rsa-sha2-512", ...sshThroughTunnel(lab, port, "g5"), "echo in"]);
      assert.equal(sha2.code, 0, sha2.stderr);
      assert.equal(sha2.stdout.trim(), "in");
    });
  });

  test("forward mode fails at start with exit 6 and a hint naming splice for a guest that refuses forwarding", async () => {
    const out = await tunnelOutcome(lab.configFile, "g3", ["--mode", "forward"]);
    assert.equal(out.ready, false);
    assert.equal(out.code, 6, out.stderr);
    assert.match(out.stderr, /does not forward/);
    assert.match(out.stderr, /hint:.*splice/);
  });

  test("forward mode still reaches a non-SSH service on the guest's loopback", async () => {
    const svc = lab.guestService;
    await withTunnel(["-c", lab.configFile, "--target", `127.0.0.1:${svc.port}`, "g1"], async (port) => {
      const r = await runCommand("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}; printf 'ping\\n' >&3; timeout 5 head -c ${svc.reply.length} <&3`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, svc.reply);
    });
  });
});

describe("proxy verifies the guest", () => {
  const proxyCmd = (cfg: string) => `${cliShell()} -v -c ${cfg} proxy %h %p`;

  test("a configured guest: real ssh gets in, and -v says the guest's key was verified by ssh2vsock", async () => {
    const r = await runCommand("ssh", [...sshViaProxy(lab, "g1", proxyCmd(lab.configFile), "root@g1"), "ip netns identify"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), guest("g1").netns);
    assert.match(r.stderr, /verified/);
  });

  test("reaches the tinysshd guest and the guest that refuses forwarding", async () => {
    for (const name of ["g3", "g4"]) {
      const r = await runCommand("ssh", [...sshViaProxy(lab, name, proxyCmd(lab.configFile), `${user(name)}@${name}`), "echo hello"]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), "hello");
    }
  });

  test("a wrong key exits 3 before the client sees the server's reply, even when the client itself checks nothing", async () => {
    const lines = Object.values(guest("g2").hostKeyPubFiles).map((p) => knownHostsFor("g1.lab.test", p));
    const cfg = configTrusting("proxy-wrong", lines);
    // The proxy's own exit status, recorded by a wrapper: ssh reports only its own (255).
    const status = join(lab.dir, "proxy-wrong.status");
    const wrapper = join(lab.dir, "proxy-wrong.sh");
    writeFileSync(wrapper, `#!/bin/sh\ntrap "" HUP\n"$@"\necho $? > ${status}\n`, { mode: 0o755 });
    const args = sshViaProxy(lab, "g1", `${wrapper} ${proxyCmd(cfg)}`, "root@g1").map((a) =>
      a.startsWith("UserKnownHostsFile=") ? "UserKnownHostsFile=/dev/null" : a === "StrictHostKeyChecking=yes" ? "StrictHostKeyChecking=no" : a);
    const r = await runCommand("ssh", [...args, "echo should-not-run"]);
    assert.equal(r.code, 255);
    assert.doesNotMatch(r.stdout, /should-not-run/);
    assert.match(r.stderr, /ssh2vsock: .*host key for guest g1 .*CHANGED/);
    assert.ok(r.stderr.includes(fingerprintOf(guest("g1").hostKeyPubFiles.ed25519!)), r.stderr);
    assert.equal(readFileSync(status, "utf8").trim(), "3");
  });

  test("a key marked @revoked is refused with exit 3 even though another line trusts it", async () => {
    const ed = guest("g1").hostKeyPubFiles.ed25519!;
    const cfg = configTrusting("proxy-revoked", [knownHostsFor("g1.lab.test", ed), knownHostsFor("g1.lab.test", ed, "@revoked"), knownHostsFor("g1.lab.test", guest("g1").hostKeyPubFiles.ecdsa!)]);
    const args = sshViaProxy(lab, "g1", proxyCmd(cfg), "root@g1");
    const r = await runCommand("ssh", ["-o", "HostKeyAlgorithms=ssh-ed25519", "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no", ...args, "echo should-not-run"]);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /REVOKED/);
  });

  test("the port comes from %p for ad-hoc targets", async () => {
    const r = await runCommand("ssh", ["-p", "2222", ...sshViaProxy(lab, "g1", proxyCmd(lab.configFile), "root@vsock/3"), "true"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /port 2222/);
  });

  test("an ad-hoc target without any trust source is left to the outer client, and -v says so", async () => {
    const r = await runCommand("ssh", [...sshViaProxy(lab, "g1", `${cliShell()} -v -c ${lab.configFile} proxy %h %p`, "root@vsock/3"), "ip netns identify"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), guest("g1").netns);
    assert.match(r.stderr, /only the outer client checks/);
  });
});

async function waitFor(cond: () => boolean, detail: () => string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`condition not met within ${ms} ms:\n${detail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
