// The smoke subset run under Deno (`deno run -A src/main.ts` via SSH2VSOCK_CMD): the source
// itself, unbundled, reaches a guest through tunnel and proxy, including a chacha-only sshd.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startLab, type Lab } from "../lab/lab.ts";
import { cliCommand, cliShell, runCli, runCommand, startCli } from "../e2e/_cli.ts";
import { sshThroughTunnel, sshViaProxy } from "../e2e/_fixtures.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 2, guestVariants: { g2: "chacha-only" } });
});
after(async () => {
  await lab?.stop();
});

test("runs under the command the suite was given (deno run -A src/main.ts in CI)", async () => {
  assert.ok(process.env.SSH2VSOCK_CMD, "SSH2VSOCK_CMD must name the runtime under test");
  assert.match(cliCommand().join(" "), /deno/);
  const r = await runCli(["--version"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ssh2vsock \d+\.\d+\.\d+ \(deno \d/);
});

for (const guest of ["g1", "g2"]) {
  test(`a real ssh through the tunnel reaches ${guest}${guest === "g2" ? " (chacha20-poly1305 only)" : ""}`, async () => {
    const cli = startCli(["tunnel", "-c", lab.configFile, guest]);
    try {
      const [line] = await cli.lines(1, 60_000);
      const port = Number(line.split(":").at(-1));
      const r = await runCommand("ssh", [...sshThroughTunnel(lab, port, guest), "ip netns identify"]);
      assert.equal(r.stdout.trim(), lab.guests.find((g) => g.name === guest)!.netns, r.stderr);
    } finally {
      await cli.stop();
    }
  });
}

test("OpenSSH logs in with ProxyCommand ssh2vsock proxy %h", async () => {
  const r = await runCommand("ssh", [...sshViaProxy(lab, "g1", `${cliShell()} -c ${lab.configFile} proxy %h`, "root@g1"), "echo through-deno"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "through-deno");
});

test("run exports the tunnel to the command and passes its exit code through", async () => {
  const r = await runCli(["run", "-c", lab.configFile, "--guest", "g1", "--", "sh", "-c", 'echo "port=$SSH2VSOCK_G1_PORT"; exit 7']);
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stdout, /^port=\d+$/m);
});

test("doctor passes every check a splice guest needs, skipping only the forwarding check", async () => {
  const r = await runCli(["doctor", "-c", lab.configFile, "--json", "--no-input", "g1"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: { id: string; status: string }[] };
  assert.equal(report.ok, true);
  assert.ok(report.checks.every((c) => c.status === "pass" || (c.id === "vhost-vsock" && c.status === "warn") || (c.id === "guest-forward" && c.status === "skip")), r.stdout);
});
