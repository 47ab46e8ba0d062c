// Graceful shutdown: SIGTERM stops accepting, lets open connections finish within
// shutdown_timeout, then closes what is left and exits 0.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startLab, type Lab } from "../lab/lab.ts";
import { startCli } from "./_cli.ts";
import { guestBlock, hypervisorBlock, knownHostsFor, sha256, sshThroughTunnel, writeConfig, writeKnownHosts } from "./_fixtures.ts";
import { eventually } from "./_run-helpers.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 1 });
});
after(async () => {
  await lab?.stop();
});

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });
}

test("SIGTERM during a 50 MB transfer: new connections are refused, the transfer completes intact, exit 0", async () => {
  const payload = randomBytes(50 * 1024 * 1024);
  const file = join(lab.dir, "big.bin");
  writeFileSync(file, payload);
  const cli = startCli(["tunnel", "-c", lab.configFile, "-v", "g1"]);
  const [line] = await cli.lines(1);
  const port = Number(line.split(":").at(-1));
  const ssh = spawn("ssh", [...sshThroughTunnel(lab, port, "g1"), `cat ${file}`], { stdio: ["ignore", "pipe", "pipe"] });
  const hash = createHash("sha256");
  let received = 0;
  let held = false;
  const done = new Promise<number | null>((r) => ssh.on("close", (c) => r(c)));
  // Hold the reader after the first megabyte, so the signal surely lands mid-transfer.
  await new Promise<void>((resolve) => {
    ssh.stdout.on("data", (d: Buffer) => {
      hash.update(d);
      received += d.length;
      if (received >= 1024 * 1024 && !held) {
        held = true;
        ssh.stdout.pause();
        resolve();
      }
    });
  });
  const signalledAt = Date.now();
  cli.child.kill("SIGTERM");
  assert.ok(await eventually(() => cli.stderr().includes("draining"), 5000), cli.stderr());
  assert.equal(await refused(port), true, "the listener is closed after SIGTERM");
  assert.ok(received < payload.length, "still mid-transfer when the signal arrived");
  setTimeout(() => ssh.stdout.resume(), 500);
  assert.equal(await done, 0);
  assert.equal(received, payload.length);
  assert.equal(hash.digest("hex"), sha256(payload));
  const { code } = await cli.exited;
  assert.equal(code, 0, cli.stderr());
  assert.ok(Date.now() - signalledAt < 10_000, "within the default 10 s grace");
});

test("connections still open when shutdown_timeout expires are closed and ssh2vsock exits 0", async () => {
  const cfg = writeConfig(lab, "shutdown-1s", hypervisorBlock(lab) + guestBlock(lab, "g1", { shutdown_timeout: "1" }));
  const cli = startCli(["tunnel", "-c", cfg, "g1"]);
  const [line] = await cli.lines(1);
  const port = Number(line.split(":").at(-1));
  const ssh = spawn("ssh", [...sshThroughTunnel(lab, port, "g1"), "echo up; sleep 60"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  ssh.stdout.on("data", (d) => (out += d));
  const sshExit = new Promise<number | null>((r) => ssh.on("close", (c) => r(c)));
  assert.ok(await eventually(() => out.includes("up"), 10_000));
  const t0 = Date.now();
  cli.child.kill("SIGTERM");
  const { code } = await cli.exited;
  const took = Date.now() - t0;
  assert.equal(code, 0, cli.stderr());
  assert.ok(took >= 900 && took < 5000, `exited after ${took} ms, expected about 1 s`);
  assert.match(cli.stderr(), /shutdown-timeout \[guest=g1\]: closing 1 connection/);
  assert.notEqual(await sshExit, 0, "the idle session was cut");
});

test("SIGTERM the moment the ready line appears still shuts down gracefully (exit 0), every time", async () => {
  for (let i = 0; i < 6; i++) {
    const cli = startCli(["tunnel", "-c", lab.configFile, "-v", "g1"]);
    await cli.lines(1);
    const { code, signal } = await cli.stop("SIGTERM");
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `attempt ${i + 1}: ${cli.stderr()}`);
    assert.match(cli.stderr(), /shutdown: SIGTERM/);
  }
});

test("SIGTERM before the tunnels are ready stops at once with 143 and says why", async () => {
  // A hypervisor port that accepts and never answers: the tunnel is still connecting.
  let dialled = false;
  const silent = net.createServer((socket) => {
    dialled = true;
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
  try {
    const port = (silent.address() as net.AddressInfo).port;
    const kh = writeKnownHosts(lab, "silent-term", [knownHostsFor(`[127.0.0.1]:${port}`, lab.hypervisor.hostKeyPubFiles.ed25519)]);
    const config = writeConfig(lab, "silent-term", hypervisorBlock(lab, { port: String(port), known_hosts_file: JSON.stringify(kh), connect_timeout: "30" }) + guestBlock(lab, "g1"));
    const cli = startCli(["tunnel", "-c", config, "g1"]);
    assert.ok(await eventually(() => dialled, 15_000), "the tunnel dials the hypervisor");
    const { code } = await cli.stop("SIGTERM");
    assert.equal(code, 143, cli.stderr());
    assert.match(cli.stderr(), /SIGTERM before the tunnels were ready; stopping/);
  } finally {
    silent.close();
  }
});
