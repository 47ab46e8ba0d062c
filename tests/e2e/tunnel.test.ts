// The spine end to end: real OpenSSH through `ssh2vsock tunnel` and `proxy` into lab guests
// that live in their own network namespaces, reached only through the socat/vsock stand-in.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startLab, type Lab } from "../lab/lab.ts";
import { cliShell, runCommand, startCli } from "./_cli.ts";
import { sha256, sshThroughTunnel, sshViaProxy } from "./_fixtures.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 2, guestVariants: { g2: "chacha-only" } });
});
after(async () => {
  await lab?.stop();
});

describe("tunnel", () => {
  test("a real ssh through the tunnel runs a command inside the guest's namespace", async () => {
    const cli = startCli(["tunnel", "-c", lab.configFile, "g1"]);
    try {
      const [line] = await cli.lines(1);
      const m = /^g1 127\.0\.0\.1:(\d+)$/.exec(line);
      assert.ok(m, `ready line: ${line}`);
      const r = await runCommand("ssh", [...sshThroughTunnel(lab, Number(m[1]), "g1"), "ip netns identify"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), lab.guests[0].netns);
    } finally {
      const { code } = await cli.stop("SIGTERM");
      assert.equal(code, 0, cli.stderr());
    }
  });

  test("runs with its start-up allocator settings in the very process that was started (same PID)", async () => {
    const cli = startCli(["tunnel", "-c", lab.configFile, "g1"], { env: { GLIBC_TUNABLES: "", MIMALLOC_PURGE_DELAY: "" } });
    try {
      await cli.lines(1);
      // /proc/PID/environ is what the kernel got at the last execve: the re-executed image's.
      const environ = readFileSync(`/proc/${cli.child.pid}/environ`, "utf8").split("\0");
      const tuned = environ.filter((e) => /^(GLIBC_TUNABLES|MIMALLOC_PURGE_DELAY)=/.test(e));
      assert.deepEqual(tuned.sort(), ["GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4194304", "MIMALLOC_PURGE_DELAY=10000"]);
    } finally {
      const { code } = await cli.stop("SIGTERM");
      assert.equal(code, 0, cli.stderr());
    }
  });

  test("32 connections at once through one tunnel each move 10 MB intact", async () => {
    const payload = randomBytes(10 * 1024 * 1024);
    const file = join(lab.dir, "payload.bin");
    writeFileSync(file, payload);
    const want = sha256(payload);
    const cli = startCli(["tunnel", "-c", lab.configFile, "g1"]);
    try {
      const [line] = await cli.lines(1);
      const port = Number(line.split(":").at(-1));
      const one = () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn("ssh", [...sshThroughTunnel(lab, port, "g1"), `cat ${file}`], { stdio: ["ignore", "pipe", "pipe"] });
          const h = createHash("sha256");
          let err = "";
          child.stdout.on("data", (d) => h.update(d));
          child.stderr.on("data", (d) => (err += d));
          child.on("close", (code) => (code === 0 ? resolve(h.digest("hex")) : reject(new Error(`ssh exited ${code}: ${err}`))));
        });
      const digests = await Promise.all(Array.from({ length: 32 }, one));
      assert.deepEqual(digests, Array(32).fill(want));
    } finally {
      await cli.stop("SIGTERM");
    }
  });

  test("with no target it opens every configured guest and --json prints one object per tunnel", async () => {
    const cli = startCli(["tunnel", "-c", lab.configFile, "--json"]);
    try {
      const lines = (await cli.lines(2)).map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.name).sort(), ["g1", "g2"]);
      for (const l of lines) {
        // JSON Lines, snake_case keys: the one JSON convention of every command.
        assert.deepEqual(Object.keys(l).sort(), ["host", "mode", "name", "port"]);
        assert.equal(l.host, "127.0.0.1");
        assert.ok(l.port > 0);
      }
      const g2 = lines.find((l) => l.name === "g2");
      const r = await runCommand("ssh", [...sshThroughTunnel(lab, g2.port, "g2"), "ip netns identify"]);
      assert.equal(r.stdout.trim(), lab.guests[1].netns, r.stderr);
    } finally {
      await cli.stop("SIGINT");
    }
  });

  test("reaches a guest whose sshd offers only chacha20-poly1305", async () => {
    const cli = startCli(["tunnel", "-c", lab.configFile, "-v", "g2"]);
    try {
      const [line] = await cli.lines(1);
      const port = Number(line.split(":").at(-1));
      const r = await runCommand("ssh", [...sshThroughTunnel(lab, port, "g2"), "echo ok"]);
      assert.equal(r.stdout.trim(), "ok", r.stderr);
    } finally {
      await cli.stop("SIGTERM");
    }
  });
});

describe("proxy", () => {
  test("OpenSSH with ProxyCommand ssh2vsock proxy logs into the guest", async () => {
    const r = await runCommand("ssh", [...sshViaProxy(lab, "g1", `${cliShell()} -c ${lab.configFile} proxy %h`, "root@g1"), "ip netns identify"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), lab.guests[0].netns);
  });

  test("vsock%CID form reaches the guest by CID on the configured hypervisor", async () => {
    const r = await runCommand("ssh", [...sshViaProxy(lab, "g2", `${cliShell()} -c ${lab.configFile} proxy %h`, `root@vsock%${lab.guests[1].cid}`), "ip netns identify"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), lab.guests[1].netns);
  });

  test("a one-off proxy vsock/CID needs nothing but a qemu+ssh:// --hypervisor URI", async () => {
    const empty = mkdtempSync(join(lab.dir, "empty-"));
    const uri = `qemu+ssh://root@127.0.0.1:${lab.hypervisor.port}/system?keyfile=${lab.clientKey}&knownhosts=${lab.knownHostsFile}`;
    const r = await runCommand(
      "ssh",
      [...sshViaProxy(lab, "g1", `${cliShell()} --hypervisor '${uri}' proxy %h`, `root@vsock/${lab.guests[0].cid}`), "ip netns identify"],
      { cwd: empty, env: { HOME: empty, XDG_CONFIG_HOME: empty, SSH2VSOCK_CONFIG: "" } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), lab.guests[0].netns);
  });
});
