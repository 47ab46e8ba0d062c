// Logging: --log-format json writes only JSON objects (time, level, event, guest, hop, detail);
// -vv traces, and no log of any command here ever contains the lab's password or passphrase.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startLab, type Lab } from "../lab/lab.ts";
import { cliShell, runCli, runCommand, startCli } from "./_cli.ts";
import { guestBlock, hypervisorBlock, sshThroughTunnel, writeConfig } from "./_fixtures.ts";
import { assertNoSecrets } from "./_run-helpers.ts";

let lab: Lab;
let secretsCfg: string;
/** Every stderr of every ssh2vsock started here, for the final scan. */
const collected: string[] = [];

before(async () => {
  lab = await startLab({ guests: 1 });
  // Secrets on both hops: an encrypted key with its passphrase for the hypervisor, a password for the guest.
  secretsCfg = writeConfig(
    lab,
    "secrets",
    hypervisorBlock(lab, { ssh_private_key: JSON.stringify(lab.clientKeyEncrypted), ssh_private_key_passphrase: JSON.stringify(lab.passphrase) }) +
      guestBlock(lab, "g1", { ssh_private_key: "", username: JSON.stringify(lab.passwordUser), password: JSON.stringify(lab.password) }),
  );
});
after(async () => {
  await lab?.stop();
});

const KEYS = ["time", "level", "event", "guest", "hop", "detail"];

function assertJsonLines(text: string): Array<Record<string, unknown>> {
  const lines = text.split("\n").filter((l) => l !== "");
  assert.ok(lines.length > 0, "no log lines");
  return lines.map((l) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(l);
    } catch {
      assert.fail(`not a JSON line: ${l}`);
    }
    assert.deepEqual(Object.keys(o), KEYS, l);
    assert.ok(!Number.isNaN(Date.parse(o.time as string)), l);
    assert.ok(["error", "warn", "info", "debug", "trace"].includes(o.level as string), l);
    return o;
  });
}

test("tunnel -vv --log-format json writes only JSON lines, down to ssh2's protocol trace", async () => {
  const cli = startCli(["tunnel", "-c", secretsCfg, "-vv", "--log-format", "json", "g1"]);
  try {
    const [line] = await cli.lines(1);
    const port = Number(line.split(":").at(-1));
    const r = await runCommand("ssh", [...sshThroughTunnel(lab, port, "g1"), "echo ok"]);
    assert.equal(r.stdout.trim(), "ok", r.stderr);
  } finally {
    await cli.stop("SIGTERM");
  }
  collected.push(cli.stderr());
  const events = assertJsonLines(cli.stderr());
  assert.ok(events.some((e) => e.level === "trace" && e.event === "ssh2"), "-vv traces");
  assert.ok(events.some((e) => e.event === "verified" && e.guest === "g1"), "guest verified event names the guest");
  assert.ok(events.some((e) => e.event === "verified" && String(e.hop).startsWith("hypervisor ")), "hypervisor verified event names the hop");
});

test("run -vv --log-format json keeps stderr JSON while the command writes to stdout", async () => {
  const r = await runCli(["run", "-c", secretsCfg, "-vv", "--log-format", "json", "--", "sh", "-c", `echo "port=$SSH2VSOCK_G1_PORT"`]);
  collected.push(r.stderr);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^port=\d+$/m);
  assertJsonLines(r.stderr);
});

test("a failure under --log-format json ends with one JSON error line carrying the reason and hint", async () => {
  const r = await runCli(["--log-format", "json", "proxy", "-c", secretsCfg, "vsock/99"], { timeoutMs: 30_000 });
  assert.equal(r.code, 6, r.stderr);
  collected.push(r.stderr);
  const last = assertJsonLines(r.stderr).at(-1)!;
  assert.equal(last.level, "error");
  assert.equal(last.event, "relay");
  assert.match(String(last.detail), /No such device.*hint: /);
});

test("an unknown --log-format is a usage error", async () => {
  const r = await runCli(["tunnel", "-c", secretsCfg, "--log-format", "xml", "g1"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--log-format: expected human or json, got "xml"/);
});

test("no log of any command, at -vv, contains the password or the passphrase", async () => {
  const human = await runCli(["run", "-c", secretsCfg, "-vv", "--", "sh", "-c", "exit 0"]);
  assert.equal(human.code, 0, human.stderr);
  collected.push(human.stderr);
  const proxied = await runCommand("ssh", [
    "-F", "/dev/null", "-i", lab.clientKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
    "-o", `UserKnownHostsFile=${lab.knownHostsFile}`, "-o", "StrictHostKeyChecking=yes", "-o", "HostKeyAlias=g1.lab.test",
    "-o", `ProxyCommand=${cliShell()} -vv -c ${secretsCfg} proxy %h`, "root@g1", "true",
  ]);
  assert.equal(proxied.code, 0, proxied.stderr);
  collected.push(proxied.stderr);
  // A refused login still carries the real password in the config: the failure must not echo it.
  const wrongUser = writeConfig(
    lab,
    "secrets-wrong-user",
    hypervisorBlock(lab, { ssh_private_key: JSON.stringify(lab.clientKeyEncrypted), ssh_private_key_passphrase: JSON.stringify(lab.passphrase) }) +
      // forward mode: only ssh2vsock's own guest session uses the guest's password.
      guestBlock(lab, "g1", { ssh_private_key: "", username: `"nobody"`, password: JSON.stringify(lab.password), mode: `"forward"` }),
  );
  const refused = await runCli(["run", "-c", wrongUser, "-vv", "--", "true"]);
  assert.equal(refused.code, 4, refused.stderr);
  collected.push(refused.stderr);
  const shown = await runCli(["config", "show", "-c", secretsCfg]);
  collected.push(shown.stdout + shown.stderr);
  assert.ok(collected.length >= 5);
  collected.forEach((text, i) => assertNoSecrets(lab, text, `log #${i + 1}`));
});
