// `ssh2vsock run` as a container entrypoint: the command reaches the guest through the exported
// tunnel, its exit status passes through, signals reach it, nothing is left running afterwards.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { startLab, type Lab } from "../lab/lab.ts";
import { cliCommand, runCli, startCli, type RunningCli } from "./_cli.ts";
import { guestBlock, hypervisorBlock, knownHostsFor, sshThroughTunnel, writeConfig } from "./_fixtures.ts";
import { alive, descendantsOf, eventually } from "./_run-helpers.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 2, guestVariants: { g2: "not-listening" } });
});
after(async () => {
  await lab?.stop();
});

/** SIGTERM, then SIGKILL to ssh2vsock (and `also`) if it has not exited within `ms`, so a failure never hangs. */
async function stopWithin(cli: RunningCli, ms: number, also?: number) {
  const timer = setTimeout(() => {
    cli.child.kill("SIGKILL");
    if (also !== undefined && alive(also)) process.kill(also, "SIGKILL");
  }, ms);
  try {
    // process.kill rather than child.kill: under Deno the latter makes the child's exit read as that signal.
    process.kill(cli.child.pid!, "SIGTERM");
    return await cli.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** `ssh …` into g1 through the tunnel `run` exported, as a shell fragment. */
function sshG1(command: string): string {
  const args = sshThroughTunnel(lab, 0, "g1").map((a) => (a === "0" ? `"$SSH2VSOCK_G1_PORT"` : `'${a}'`));
  return `ssh ${args.join(" ")} '${command}'`;
}

describe("run", () => {
  test("runs the command with SSH2VSOCK_G1_HOST/PORT and it reaches the guest through the tunnel", async () => {
    const r = await runCli(["run", "-c", lab.configFile, "--guest", "g1", "--", "sh", "-c", `test "$SSH2VSOCK_G1_HOST" = 127.0.0.1 && ${sshG1("ip netns identify")}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), lab.guests[0].netns);
  });

  test("the command gets the environment ssh2vsock was given, not its own start-up settings", async () => {
    const show = 'echo "G=$GLIBC_TUNABLES M=${MIMALLOC_PURGE_DELAY-unset} R=${SSH2VSOCK_RUNTIME_RESTORE-unset}"';
    const r = await runCli(["run", "-c", lab.configFile, "--guest", "g1", "--", "sh", "-c", show], { env: { GLIBC_TUNABLES: "glibc.malloc.arena_max=2" } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "G=glibc.malloc.arena_max=2 M=unset R=unset");
  });

  test("passes the command's exit status through (7)", async () => {
    const r = await runCli(["run", "-c", lab.configFile, "--guest", "g1", "--", "sh", "-c", `${sshG1("true")} && exit 7`]);
    assert.equal(r.code, 7, r.stderr);
  });

  test("exits 128+15 when the command is killed by SIGTERM", async () => {
    const r = await runCli(["run", "-c", lab.configFile, "--guest", "g1", "--", "sh", "-c", "kill -TERM $$"]);
    assert.equal(r.code, 143, r.stderr);
  });

  test("SIGTERM to ssh2vsock reaches the command; afterwards no command, relay or hypervisor session is left", async () => {
    const marker = join(lab.dir, "got-term");
    const pidFile = join(lab.dir, "child.pid");
    const script = `echo $$ > '${pidFile}'; trap 'echo TERM > "${marker}"; exit 9' TERM; echo ready; while :; do sleep 0.1; done`;
    const cli = startCli(["run", "-c", lab.configFile, "--guest", "g1", "--", "sh", "-c", script]);
    await cli.lines(1);
    const childPid = Number(readFileSync(pidFile, "utf8"));
    assert.ok(descendantsOf(lab.hypervisor.pid).length > 0, "the relay runs under the hypervisor's sshd while the tunnel is up");
    const { code } = await stopWithin(cli, 15_000, childPid);
    assert.equal(code, 9, cli.stderr());
    assert.equal(readFileSync(marker, "utf8").trim(), "TERM");
    assert.ok(await eventually(() => !alive(childPid)), "the command is gone");
    assert.ok(await eventually(() => descendantsOf(lab.hypervisor.pid).length === 0), "no session or socat left on the hypervisor");
  });

  test("a command killed through ssh2vsock's SIGTERM reports 143", async () => {
    const cli = startCli(["run", "-c", lab.configFile, "--guest", "g1", "--", "sh", "-c", "echo ready; exec sleep 60"]);
    await cli.lines(1);
    const { code } = await stopWithin(cli, 15_000);
    assert.equal(code, 143, cli.stderr());
  });

  test("an unreachable guest fails before the command starts, naming the guest and the hop", async () => {
    const marker = join(lab.dir, "must-not-exist");
    // g2's sshd is down, so it has no host key to trust: borrow g1's, the relay fails first anyway.
    const cfg = writeConfig(lab, "run-unreachable", hypervisorBlock(lab) + guestBlock(lab, "g1") +
      guestBlock(lab, "g2", { known_hosts_file: "", known_hosts: JSON.stringify([knownHostsFor("g2.lab.test", lab.guests[0].hostKeyPubFiles.ed25519)]) }));
    const r = await runCli(["run", "-c", cfg, "--guest", "g1", "--guest", "g2", "--", "sh", "-c", `touch '${marker}'`]);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /^ssh2vsock: guest g2 .*via hypervisor root@127\.0\.0\.1:\d+: nothing is listening/m);
    assert.equal(existsSync(marker), false, "the command must not have run");
    assert.ok(await eventually(() => descendantsOf(lab.hypervisor.pid).length === 0), "g1's tunnel was closed too");
  });

  test("without a command it is a usage error", async () => {
    const r = await runCli(["run", "-c", lab.configFile]);
    assert.equal(r.code, 2, r.stderr);
  });

  test("as PID 1 of its own PID namespace it still relays SIGTERM to the command", async () => {
    const marker = join(lab.dir, "pid1-term");
    const script = `echo "parent=$PPID"; trap 'echo TERM > "${marker}"; exit 5' TERM; while :; do sleep 0.1; done`;
    const [cmd, ...pre] = cliCommand();
    const child = spawn("unshare", ["--pid", "--fork", "--kill-child", "--mount-proc", cmd, ...pre, "run", "-c", lab.configFile, "--guest", "g1", "--", "sh", "-c", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    try {
      assert.ok(await eventually(() => out.includes("parent="), 30_000), `no output; stderr:\n${err}`);
      assert.equal(out.trim(), "parent=1", "ssh2vsock is PID 1 in the namespace");
      // unshare's child (ssh2vsock, PID 1 inside) gets the signal, as `docker stop` would send it.
      const [pid1] = descendantsOf(child.pid!);
      process.kill(pid1, "SIGTERM");
      const code = await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000, "ignored"))]);
      assert.equal(code, 5, err);
      assert.equal(readFileSync(marker, "utf8").trim(), "TERM");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
