// ssh2vsock.example.toml, the commented example README points to, passes the binary's own
// `config check`, and every attribute it sets or mentions in a comment exists where it is used.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "smol-toml";
import { ATTRIBUTES, TOP_LEVEL_KEYS, type BlockLevel } from "../../src/core/config/schema.ts";
import { repoRoot, runCli, runCommand } from "./_cli.ts";

const EXAMPLE = path.join(repoRoot, "ssh2vsock.example.toml");

let dir: string;
/** HOME is a temporary directory holding the files the example names; no other config is found. */
let env: Record<string, string>;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "s2v-example-"));
  env = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, "xdg"), XDG_CONFIG_DIRS: path.join(dir, "xdg-dirs"), SSH_AUTH_SOCK: "" };
  const ssh = path.join(dir, ".ssh");
  mkdirSync(ssh, { mode: 0o700 });
  // guests.app1 names ~/.ssh/id_app1 and the user certificate ~/.ssh/id_app1-cert.pub, which config check reads.
  const keygen = async (...args: string[]) => {
    const r = await runCommand("ssh-keygen", ["-q", ...args]);
    assert.equal(r.code, 0, `ssh-keygen ${args.join(" ")}: ${r.stderr}`);
  };
  await keygen("-t", "ed25519", "-N", "", "-f", path.join(ssh, "id_app1"));
  await keygen("-t", "ed25519", "-N", "", "-f", path.join(dir, "user_ca"));
  await keygen("-s", path.join(dir, "user_ca"), "-I", "app1-deploy", "-n", "deploy", "-V", "-5m:+1d", path.join(ssh, "id_app1.pub"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("ssh2vsock.example.toml", () => {
  test("config check accepts it, with no weakened guarantee", async () => {
    const r = await runCli(["config", "check", "-c", EXAMPLE], { env, cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim(), `${EXAMPLE}: ok (4 guests)`);
    assert.equal(r.stderr, "", "the example should weaken nothing");
  });

  test("config check reads the user certificate it names: without it, exit 2 naming the attribute", async () => {
    const copy = path.join(dir, "no-cert");
    mkdirSync(path.join(copy, ".ssh"), { recursive: true });
    copyFileSync(path.join(dir, ".ssh", "id_app1"), path.join(copy, ".ssh", "id_app1"));
    const r = await runCli(["config", "check", "-c", EXAMPLE], { env: { ...env, HOME: copy }, cwd: dir });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /guests\.app1\.ssh_certificate: certificate .*id_app1-cert\.pub: cannot read it/);
  });

  test("the guests resolve as the comments say", async () => {
    const r = await runCli(["config", "show", "-c", EXAMPLE], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const guests = JSON.parse(r.stdout).guests;
    assert.deepEqual(Object.keys(guests), ["web1", "web2", "app1", "fc1"]);
    assert.equal(guests.web1.mode, "splice");
    assert.equal(guests.web1.known_hosts_file, path.join(dir, ".ssh/known_hosts"), "inherited from [hypervisor]");
    assert.equal(guests.web2.hypervisor.hostname, "hv2.example.com");
    assert.equal(guests.app1.mode, "forward");
    assert.equal(guests.app1.ssh_certificate, path.join(dir, ".ssh/id_app1-cert.pub"));
    assert.equal(guests.fc1.hypervisor.local, true);
  });

  test("every attribute it sets, or mentions as `# name = …`, exists at that level of the schema", () => {
    const text = readFileSync(EXAMPLE, "utf8");
    const uses = [...setAttributes(parse(text)), ...commentedAttributes(text)];
    assert.ok(uses.length > 30, `only ${uses.length} attributes found: the parser below is broken`);
    const problems = uses.filter((u) => !allowedAt(u.name, u.level)).map((u) => `${u.where}: ${u.name} (${u.level})`);
    assert.deepEqual(problems, []);
    const used = new Set(uses.map((u) => u.name));
    const missing = ["known_hosts", "ssh_certificate", "ca_file", "dns_tls_name", "ssh_private_key_passphrase", "local", "unix_socket", "ssh_ignore_host_key"]
      .filter((n) => !used.has(n));
    assert.deepEqual(missing, [], "the example should at least mention these");
  });
});

interface Use {
  name: string;
  level: BlockLevel;
  where: string;
}

function allowedAt(name: string, level: BlockLevel): boolean {
  return ATTRIBUTES.some((a) => a.name === name && a.levels.includes(level));
}

const isTable = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The attributes of every hypervisor block and guest, inline hypervisor tables included. */
function setAttributes(doc: Record<string, unknown>): Use[] {
  const out: Use[] = [];
  const block = (table: unknown, level: BlockLevel, where: string) => {
    assert.ok(isTable(table), `${where} is not a table`);
    for (const [name, value] of Object.entries(table)) {
      out.push({ name, level, where });
      if (name === "hypervisor" && isTable(value)) block(value, "hypervisor", `${where}.hypervisor`);
    }
  };
  for (const key of Object.keys(doc)) assert.ok((TOP_LEVEL_KEYS as readonly string[]).includes(key), `unknown top-level key ${key}`);
  if (doc.hypervisor !== undefined) block(doc.hypervisor, "hypervisor", "hypervisor");
  for (const [name, t] of Object.entries((doc.hypervisors ?? {}) as object)) block(t, "hypervisor", `hypervisors.${name}`);
  for (const [name, t] of Object.entries((doc.guests ?? {}) as object)) block(t, "guest", `guests.${name}`);
  return out;
}

/** `# name = …` and `# … name = …` suggestions in comments, at the level of the section they sit in. */
function commentedAttributes(text: string): Use[] {
  const out: Use[] = [];
  let level: BlockLevel | undefined;
  let section = "(top)";
  for (const line of text.split("\n")) {
    const header = /^\[([^\]]+)\]/.exec(line);
    if (header) {
      section = header[1]!;
      level = section.startsWith("guests.") ? "guest" : "hypervisor";
      continue;
    }
    const comment = line.indexOf("#");
    if (comment === -1 || level === undefined) continue;
    for (const m of line.slice(comment).matchAll(/\b([a-z][a-z_]*[a-z]) = /g)) out.push({ name: m[1]!, level, where: `[${section}] comment` });
  }
  return out;
}
