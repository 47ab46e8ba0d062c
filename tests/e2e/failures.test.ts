// Each failure family ends with its documented exit code and a one-line reason: credentials
// (4), unreachable hypervisor (5), relay (6), configuration (2); and each credential kind works.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startLab, type Lab } from "../lab/lab.ts";
import { runCli } from "./_cli.ts";
import { guestBlock, hypervisorBlock, knownHostsFor, tunnelOutcome, writeConfig, writeKnownHosts } from "./_fixtures.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 2, guestVariants: { g2: "not-listening" } });
});
after(async () => {
  await lab?.stop();
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("credentials", () => {
  // Guest credentials are ssh2vsock's own only in forward mode (splice lets the client log in).
  test("password authentication to the guest works in forward mode, and a wrong password exits 4", async () => {
    const good = writeConfig(lab, "pw-good", hypervisorBlock(lab) + guestBlock(lab, "g1", { ssh_private_key: "", username: `"s2vlab"`, password: JSON.stringify(lab.password), mode: `"forward"` }));
    assert.equal((await tunnelOutcome(good)).ready, true);
    const bad = writeConfig(lab, "pw-bad", hypervisorBlock(lab) + guestBlock(lab, "g1", { ssh_private_key: "", username: `"s2vlab"`, password: `"not-the-password"`, mode: `"forward"` }));
    const out = await tunnelOutcome(bad);
    assert.equal(out.code, 4, out.stderr);
    assert.match(out.stderr, /guest g1: authentication failed/);
    assert.ok(!out.stderr.includes("not-the-password"));
  });

  test("an encrypted OpenSSH key with its passphrase and a PEM key both authenticate", async () => {
    const enc = writeConfig(lab, "enc", hypervisorBlock(lab, { ssh_private_key: JSON.stringify(lab.clientKeyEncrypted), ssh_private_key_passphrase: JSON.stringify(lab.passphrase) }) + guestBlock(lab, "g1", { ssh_private_key: JSON.stringify(lab.clientKeyPem), mode: `"forward"` }));
    const out = await tunnelOutcome(enc);
    assert.equal(out.ready, true, out.stderr);
  });

  test("a wrong passphrase exits 4 without showing it", async () => {
    const cfg = writeConfig(lab, "enc-bad", hypervisorBlock(lab, { ssh_private_key: JSON.stringify(lab.clientKeyEncrypted), ssh_private_key_passphrase: `"wrong-passphrase"` }) + guestBlock(lab, "g1"));
    const r = await runCli(["tunnel", "-c", cfg, "g1"], { timeoutMs: 20_000 });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /passphrase/);
    assert.ok(!r.stderr.includes("wrong-passphrase"));
  });

  test("a key the server does not accept exits 4", async () => {
    const cfg = writeConfig(lab, "wrong-user", hypervisorBlock(lab, { username: `"nobody"` }) + guestBlock(lab, "g1"));
    const r = await runCli(["tunnel", "-c", cfg, "g1"], { timeoutMs: 20_000 });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /hypervisor .*authentication failed/);
  });
});

describe("reachability", () => {
  test("a closed hypervisor port exits 5", async () => {
    const port = await closedPort();
    // Trust is settled before dialling, so give the closed port a trusted key too.
    const kh = writeKnownHosts(lab, "closed", [knownHostsFor(`[127.0.0.1]:${port}`, lab.hypervisor.hostKeyPubFiles.ed25519)]);
    const cfg = writeConfig(lab, "closed", hypervisorBlock(lab, { port: String(port), known_hosts_file: JSON.stringify(kh) }) + guestBlock(lab, "g1"));
    const r = await runCli(["tunnel", "-c", cfg, "g1"], { timeoutMs: 20_000 });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /ECONNREFUSED/);
  });

  test("a hypervisor port that accepts TCP but never speaks SSH exits 5 at the connect timeout, without a stack trace", async () => {
    const silent = net.createServer((socket) => socket.on("error", () => {}));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const kh = writeKnownHosts(lab, "silent", [knownHostsFor(`[127.0.0.1]:${port}`, lab.hypervisor.hostKeyPubFiles.ed25519)]);
      const cfg = writeConfig(lab, "silent", hypervisorBlock(lab, { port: String(port), known_hosts_file: JSON.stringify(kh), connect_timeout: "1" }) + guestBlock(lab, "g1"));
      const r = await runCli(["tunnel", "-c", cfg, "g1"], { timeoutMs: 20_000 });
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /no SSH handshake within the connect timeout/);
      assert.doesNotMatch(r.stderr, /at emitError|Connection lost before handshake\n/);
      assert.equal(r.stderr.trim().split("\n").length, 2, "one line and a hint");
    } finally {
      silent.close();
    }
  });

  test("an unknown CID exits 6 with socat's reason", async () => {
    const r = await runCli(["proxy", "-c", lab.configFile, "vsock/99"], { timeoutMs: 20_000 });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /No such device/);
    assert.equal(r.stdout, "", "nothing but the stream on stdout");
  });

  test("a guest with nothing listening on vsock exits 6 naming the cause and the guest-side fixes", async () => {
    const cfg = writeConfig(lab, "not-listening", hypervisorBlock(lab) + guestBlock(lab, "g1", { cid: String(lab.guests[1].cid) }));
    const r = await runCli(["tunnel", "-c", cfg, "g1"], { timeoutMs: 20_000 });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /Connection refused/);
    assert.match(r.stderr, /VSOCK-LISTEN:22/);
  });

  test("socat missing on the hypervisor exits 6 saying so", async () => {
    const cfg = writeConfig(lab, "no-socat", hypervisorBlock(lab, { socat: `"/nonexistent/socat"` }) + guestBlock(lab, "g1"));
    const r = await runCli(["tunnel", "-c", cfg, "g1"], { timeoutMs: 20_000 });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /socat is not installed/);
  });
});

describe("configuration", () => {
  test("bad TOML exits 2 with line and column", async () => {
    const cfg = writeConfig(lab, "bad-toml", "[hypervisor]\nhostname = \"x\"\nport = = 3\n");
    const r = await runCli(["config", "check", "-c", cfg]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bad-toml\.toml:3:\d+/);
  });

  test("config check lists every problem at once and exits 2", async () => {
    const cfg = writeConfig(lab, "invalid", hypervisorBlock(lab, { prot: "22" }) + guestBlock(lab, "g1", { cid: "2", use_sshfp: "true" }));
    const r = await runCli(["config", "check", "-c", cfg]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /hypervisor\.prot.*did you mean .*port/i);
    assert.match(r.stderr, /guests\.g1\.cid/);
    assert.match(r.stderr, /guests\.g1\.use_sshfp/);
  });

  test("config show prints resolved guests with secrets redacted", async () => {
    const cfg = writeConfig(lab, "show", hypervisorBlock(lab) + guestBlock(lab, "g1", { ssh_private_key: "", username: `"s2vlab"`, password: JSON.stringify(lab.password) }));
    const r = await runCli(["config", "show", "-c", cfg]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(lab.password));
    const shown = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(shown.guests), ["g1"]);
    assert.equal(shown.guests.g1.password, "<redacted>");
    assert.match(r.stdout, /redacted/);
  });

  test("an unknown command line option exits 2", async () => {
    const r = await runCli(["tunnel", "--no-such-option"]);
    assert.equal(r.code, 2, r.stderr);
  });
});
