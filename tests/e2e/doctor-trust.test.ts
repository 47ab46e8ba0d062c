// doctor's interactive trust flow in a real pseudo-terminal (tmux): the fingerprint is shown and
// asked about; yes appends exactly one hashed line OpenSSH finds, no changes nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startLab, type Lab } from "../lab/lab.ts";
import { run } from "../lab/_system.ts";
import { cliShell, runCli } from "./_cli.ts";
import { fingerprintOf, guestBlock, hypervisorBlock, knownHostsFor, writeConfig } from "./_fixtures.ts";

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 1 });
});
after(async () => {
  await lab?.stop();
});

/** One doctor run inside its own tmux server and session, killed by name when done. */
class TmuxDoctor {
  readonly socket = `s2vdoc-${process.pid}-${randomBytes(3).toString("hex")}`;
  readonly session = "doctor";

  async start(args: string): Promise<void> {
    const script = join(lab.dir, `${this.socket}.sh`);
    writeFileSync(script, `#!/bin/sh\n${cliShell()} ${args}\necho "DOCTOR-EXIT=$?"\nexec sleep 600\n`, { mode: 0o700 });
    await run("tmux", ["-L", this.socket, "new-session", "-d", "-s", this.session, "-x", "200", "-y", "80", script]);
  }

  async screen(): Promise<string> {
    return (await run("tmux", ["-L", this.socket, "capture-pane", "-p", "-J", "-S", "-200", "-t", this.session])).stdout;
  }

  async waitFor(re: RegExp, timeoutMs = 60_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = await this.screen();
      if (re.test(text)) return text;
      if (Date.now() > until) throw new Error(`timed out waiting for ${re} on screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async keys(...keys: string[]): Promise<void> {
    await run("tmux", ["-L", this.socket, "send-keys", "-t", this.session, ...keys]);
  }

  async kill(): Promise<void> {
    await run("tmux", ["-L", this.socket, "kill-session", "-t", this.session], { allowFailure: true });
  }
}

/** A config whose guest g1 is checked against `kh` only, which starts with unrelated lines. */
function setup(name: string): { cfg: string; kh: string; before: Buffer } {
  const kh = join(lab.dir, `${name}.known_hosts`);
  const existing = `# kept as is\n${knownHostsFor("other.example", lab.hypervisor.hostKeyPubFiles.rsa!)}   trailing spaces  \n`;
  writeFileSync(kh, existing, { mode: 0o644 });
  const cfg = writeConfig(lab, name, hypervisorBlock(lab) + "\n" + guestBlock(lab, "g1", { known_hosts_file: JSON.stringify(kh) }));
  return { cfg, kh, before: readFileSync(kh) };
}

describe("doctor trust prompt (tmux)", () => {
  test("answering yes appends one hashed line that ssh-keygen -F finds, and a second run passes", async () => {
    const { cfg, kh, before: old } = setup("trust-yes");
    const t = new TmuxDoctor();
    try {
      await t.start(`-c '${cfg}' doctor g1`);
      const screen = await t.waitFor(/Trust this key/);
      assert.ok(screen.includes(fingerprintOf(lab.guests[0]!.hostKeyPubFiles.ed25519!)), screen);
      assert.equal(readFileSync(kh).compare(old), 0, "nothing written before the answer");
      await t.keys("y");
      const done = await t.waitFor(/DOCTOR-EXIT=\d+/);
      assert.match(done, /DOCTOR-EXIT=0/, done);
      assert.match(done, /host key added \(hashed\)/);
    } finally {
      await t.kill();
    }
    const now = readFileSync(kh);
    assert.ok(now.subarray(0, old.length).equals(old), "existing bytes untouched");
    const added = now.subarray(old.length).toString();
    assert.match(added, /^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 AAAA\S+\n$/);
    const found = await run("ssh-keygen", ["-F", "g1.lab.test", "-f", kh], { allowFailure: true });
    assert.equal(found.code, 0, found.stderr);
    assert.ok(found.stdout.includes(added.trim()), found.stdout);
    const again = await runCli(["doctor", "-c", cfg, "--no-input", "--json", "g1"]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(JSON.parse(again.stdout).ok, true);
  });

  test("answering no changes nothing and fails the guest host key check", async () => {
    const { cfg, kh, before: old } = setup("trust-no");
    const t = new TmuxDoctor();
    try {
      await t.start(`-c '${cfg}' doctor g1`);
      await t.waitFor(/Trust this key/);
      await t.keys("n");
      const done = await t.waitFor(/DOCTOR-EXIT=\d+/);
      assert.match(done, /DOCTOR-EXIT=1/, done);
      assert.match(done, /you declined to trust it/);
    } finally {
      await t.kill();
    }
    assert.equal(readFileSync(kh).compare(old), 0, "file byte-identical");
  });
});
