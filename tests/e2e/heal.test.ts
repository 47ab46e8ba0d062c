// Healing: the hypervisor's sshd restarts under a running tunnel; in-flight connections are
// closed, the listener stays, sessions come back with logged backoff, and the next client works.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { startLab, type Lab } from "../lab/lab.ts";
import { runCommand, startCli } from "./_cli.ts";
import { sshThroughTunnel } from "./_fixtures.ts";
import { assertNoSecrets, eventually } from "./_run-helpers.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 2 });
});
after(async () => {
  await lab?.stop();
});

for (const mode of ["splice", "forward"] as const) test(`${mode} mode: after the hypervisor restarts, the next client connection succeeds without restarting ssh2vsock`, async () => {
  const cli = startCli(["tunnel", "-c", lab.configFile, "-v", "--json", "--mode", mode]);
  try {
    const ports = Object.fromEntries((await cli.lines(2)).map((l) => JSON.parse(l)).map((t) => [t.name, t.port as number]));
    const first = await runCommand("ssh", [...sshThroughTunnel(lab, ports.g1, "g1"), "echo before"]);
    assert.equal(first.stdout.trim(), "before", first.stderr);

    // A connection in flight when the hypervisor goes away must be closed, not left hanging.
    const inflight = spawn("ssh", [...sshThroughTunnel(lab, ports.g1, "g1"), "echo up; sleep 120"], { stdio: ["ignore", "pipe", "pipe"] });
    let inflightOut = "";
    inflight.stdout.on("data", (d) => (inflightOut += d));
    const inflightExit = new Promise<number | null>((r) => inflight.on("close", (c) => r(c)));
    assert.ok(await eventually(() => inflightOut.includes("up"), 10_000));

    const pidBefore = lab.hypervisor.pid;
    await lab.restartHypervisor();
    assert.notEqual(lab.hypervisor.pid, pidBefore);
    const connectionsAfterRestart = lab.hypervisorConnectionCount();

    const code = await Promise.race([inflightExit, new Promise((r) => setTimeout(r, 10_000, "hung"))]);
    assert.notEqual(code, "hung", "the in-flight connection was not closed");
    if (code === "hung") inflight.kill("SIGKILL");

    for (const g of ["g1", "g2"]) {
      const again = await runCommand("ssh", [...sshThroughTunnel(lab, ports[g], g), "ip netns identify"]);
      assert.equal(again.code, 0, `${g}: ${again.stderr}\n--- ssh2vsock:\n${cli.stderr()}`);
      assert.equal(again.stdout.trim(), lab.guests.find((x) => x.name === g)!.netns);
    }
    assert.equal(cli.child.exitCode, null, "ssh2vsock kept running");
    const log = cli.stderr();
    if (mode === "forward") {
      // Only forward mode keeps a guest session of its own to re-establish.
      assert.match(log, /warn: session-lost \[guest=g1\]/);
      assert.match(log, /warn: reconnect \[guest=g1\]: attempt 1 in \d+\.\d s/);
      assert.match(log, /reconnected \[guest=g1\]: after \d+ attempts?/);
    }
    // Both guests came back over one new hypervisor connection, its key verified again.
    assert.equal(lab.hypervisorConnectionCount() - connectionsAfterRestart, 1, log);
    assert.equal(log.match(/info: verified \[hypervisor /g)?.length, 2, "hypervisor key verified at start and after the restart");
    assertNoSecrets(lab, log, "heal log");
  } finally {
    const { code } = await cli.stop("SIGTERM");
    assert.equal(code, 0, cli.stderr());
  }
});
