// Weakened guarantees are said once per run on stderr (tunnel, run, proxy), as log lines that
// follow --log-format, and shown by `config check` and `doctor`. Every run here happens in a
// network namespace of its own with only a loopback that is down: nothing leaves the machine.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, type CliResult } from "./_cli.ts";

const CODES = ["listen-not-loopback", "host-key-ignored", "sshfp-plain-dns", "config-secrets-readable"] as const;
const PASSWORD = "Wr0ng-But-S3cret";

let dir: string;
let pub: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "s2v-warnings-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(dir, "k")]);
  pub = readFileSync(join(dir, "k.pub"), "utf8").trim();
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A file with every weakening: a password readable by all, a public listener, an ignored key, SSHFP over plain DNS. */
function weakConfig(mode = 0o644): string {
  const path = join(dir, `weak-${mode.toString(8)}.toml`);
  writeFileSync(path, [
    "[hypervisor]",
    `hostname = "127.0.0.1"`,
    "port = 1",
    `known_hosts = [${JSON.stringify(`[127.0.0.1]:1 ${pub}`)}]`,
    `password = ${JSON.stringify(PASSWORD)}`,
    "[guests.web1]",
    "cid = 3",
    "ssh_ignore_host_key = true",
    `listen = "0.0.0.0:0"`,
    "[guests.web2]",
    "cid = 4",
    `hostname = "web2.example.com"`,
    "use_sshfp = true",
    `dns_resolver = "192.0.2.53:53"`,
    "",
  ].join("\n"));
  execFileSync("chmod", [mode.toString(8), path]);
  return path;
}

/** The same guests with nothing weakened. */
function soundConfig(): string {
  const path = join(dir, "sound.toml");
  writeFileSync(path, [
    "[hypervisor]",
    `hostname = "127.0.0.1"`,
    "port = 1",
    `known_hosts = [${JSON.stringify(`[127.0.0.1]:1 ${pub}`)}]`,
    `ssh_private_key = ${JSON.stringify(join(dir, "k"))}`,
    "[guests.web1]",
    "cid = 3",
    `hostname = "web1.example.com"`,
    `known_hosts = [${JSON.stringify(`web1.example.com ${pub}`)}]`,
    "",
  ].join("\n"));
  execFileSync("chmod", ["644", path]);
  return path;
}

/** Runs ssh2vsock in a new network namespace whose loopback is down: every connection fails at once. */
function isolated(args: string[]): Promise<CliResult> {
  return runCli(args, { wrap: ["unshare", "--net"], timeoutMs: 60_000 });
}

/** How many stderr lines carry each code. */
function counts(stderr: string): Record<string, number> {
  const lines = stderr.split("\n");
  return Object.fromEntries(CODES.map((c) => [c, lines.filter((l) => l.startsWith(`ssh2vsock: warn: ${c}`)).length]));
}

describe("weakened guarantees", () => {
  test("tunnel says each one once on stderr, before it fails to connect, and never the password", async () => {
    const r = await isolated(["tunnel", "-c", weakConfig()]);
    assert.notEqual(r.code, 0);
    assert.deepEqual(counts(r.stderr), { "listen-not-loopback": 1, "host-key-ignored": 1, "sshfp-plain-dns": 1, "config-secrets-readable": 1 }, r.stderr);
    assert.match(r.stderr, /ssh2vsock: warn: listen-not-loopback \[guest=web1\]: the tunnel to web1 listens on 0\.0\.0\.0:0.*\(hint: listen on 127\.0\.0\.1/);
    assert.match(r.stderr, /host-key-ignored \[guest=web1\]: guests\.web1\.ssh_ignore_host_key = true/);
    assert.match(r.stderr, /sshfp-plain-dns: SSHFP records for guests\.web2 come over plain DNS from 192\.0\.2\.53:53.*AD bit.*\(hint: set ca_file/);
    assert.match(r.stderr, /config-secrets-readable: .*weak-644\.toml holds a password or passphrase and its group and every user can read it \(mode 0644\).*chmod 600/);
    assert.equal(r.stdout, "");
    assert.doesNotMatch(r.stderr, new RegExp(PASSWORD));
  });

  test("--log-format json: one object per warning, the code as its event", async () => {
    const r = await isolated(["tunnel", "--log-format", "json", "-c", weakConfig()]);
    const events = r.stderr.trim().split("\n").map((l) => JSON.parse(l) as { level: string; event: string; guest: string | null; detail: string | null });
    const warns = events.filter((e) => e.level === "warn");
    assert.deepEqual(warns.map((e) => e.event), [...CODES]);
    assert.deepEqual(warns.map((e) => e.guest), ["web1", "web1", null, null]);
    for (const e of events) assert.deepEqual(Object.keys(e).sort(), ["detail", "event", "guest", "hop", "level", "time"]);
  });

  test("run says each one once too, and the command never starts", async () => {
    const marker = join(dir, "ran");
    const r = await isolated(["run", "-c", weakConfig(), "--", "touch", marker]);
    assert.notEqual(r.code, 0);
    assert.deepEqual(counts(r.stderr), { "listen-not-loopback": 1, "host-key-ignored": 1, "sshfp-plain-dns": 1, "config-secrets-readable": 1 }, r.stderr);
    assert.throws(() => readFileSync(marker));
  });

  test("run --guest: only the guests it opens count (web2's SSHFP is not part of it)", async () => {
    const r = await isolated(["run", "-c", weakConfig(), "--guest", "web1", "--", "true"]);
    assert.deepEqual(counts(r.stderr), { "listen-not-loopback": 1, "host-key-ignored": 1, "sshfp-plain-dns": 0, "config-secrets-readable": 1 }, r.stderr);
  });

  test("proxy: stderr only, one line each, and no listener warning (it opens none)", async () => {
    const r = await isolated(["proxy", "-c", weakConfig(), "web1"]);
    assert.equal(r.stdout, "", "stdout carries only the stream");
    assert.deepEqual(counts(r.stderr), { "listen-not-loopback": 0, "host-key-ignored": 1, "sshfp-plain-dns": 0, "config-secrets-readable": 1 }, r.stderr);
  });

  test("nothing is said when nothing is weakened (a readable file without secrets included)", async () => {
    for (const args of [["tunnel"], ["proxy", "web1"], ["run", "--", "true"]]) {
      const r = await isolated([args[0]!, "-c", soundConfig(), ...args.slice(1)]);
      assert.doesNotMatch(r.stderr, /warn: (listen-not-loopback|host-key-ignored|sshfp-plain-dns|config-secrets-readable)/, `${args[0]}: ${r.stderr}`);
    }
    const mode600 = await isolated(["tunnel", "-c", weakConfig(0o600)]);
    assert.equal(counts(mode600.stderr)["config-secrets-readable"], 0, mode600.stderr);
  });

  test("config check lists them (and still exits 0: they are warnings)", async () => {
    const r = await isolated(["config", "check", "-c", weakConfig()]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(counts(r.stderr), { "listen-not-loopback": 1, "host-key-ignored": 1, "sshfp-plain-dns": 1, "config-secrets-readable": 1 }, r.stderr);
    assert.match(r.stdout, /weak-644\.toml: ok \(2 guests; 4 weakened guarantees, on stderr\)/);
    const sound = await isolated(["config", "check", "-c", soundConfig()]);
    assert.equal(sound.stderr, "");
    assert.match(sound.stdout, /sound\.toml: ok \(1 guest\)\n$/);
  });

  test("doctor shows them as a check of their own, for the guest it diagnoses", async () => {
    const r = await isolated(["doctor", "-c", weakConfig(), "--json", "--no-input", "web1"]);
    const report = JSON.parse(r.stdout) as { checks: { id: string; status: string; detail: string; hint?: string }[] };
    const g = report.checks.find((c) => c.id === "guarantees");
    assert.ok(g, JSON.stringify(report.checks.map((c) => c.id)));
    assert.equal(g.status, "warn");
    assert.match(g.detail, /listen-not-loopback: .*host-key-ignored: .*config-secrets-readable: /);
    assert.doesNotMatch(g.detail, /sshfp-plain-dns/, "web2's resolver is not web1's");
    assert.match(g.hint ?? "", /chmod 600/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(PASSWORD));
    const sound = JSON.parse((await isolated(["doctor", "-c", soundConfig(), "--json", "--no-input", "web1"])).stdout) as typeof report;
    assert.equal(sound.checks.find((c) => c.id === "guarantees")?.status, "pass");
  });
});
