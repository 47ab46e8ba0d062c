// README.md's shell and TOML snippets, taken from the README itself (by the marker comment before
// each block) and run as a reader would: bash under a temporary HOME, the binary's config check.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { cliCommand, repoRoot, runCli, runCommand } from "./_cli.ts";

const README = readFileSync(path.join(repoRoot, "README.md"), "utf8");

/** The body of the fenced code block that follows `<!-- readme-test: NAME -->`. */
function snippet(name: string): string {
  const marker = `<!-- readme-test: ${name} -->`;
  const at = README.indexOf(marker);
  assert.notEqual(at, -1, `README.md has no ${marker}`);
  const block = /^\s*```[a-z]*\n([\s\S]*?)\n```/.exec(README.slice(at + marker.length));
  assert.ok(block, `no code block right after ${marker}`);
  return block[1]!;
}

const INCLUDE = "Include config.d/*";

let dir: string;
/** A directory holding an `ssh2vsock` that runs the binary under test, put first on PATH. */
let bin: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "s2v-readme-"));
  bin = path.join(dir, "bin");
  mkdirSync(bin);
  const [cmd, ...pre] = cliCommand();
  const quoted = [cmd!, ...pre].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  writeFileSync(path.join(bin, "ssh2vsock"), `#!/bin/sh\nexec ${quoted} "$@"\n`, { mode: 0o755 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh HOME; `prepare` lays out ~/.ssh before the snippet runs. */
function home(name: string, prepare: (ssh: string) => void = () => {}): string {
  const h = path.join(dir, name);
  mkdirSync(h);
  prepare(path.join(h, ".ssh"));
  return h;
}

async function runSnippet(script: string, h: string): Promise<void> {
  const env = { HOME: h, PATH: `${bin}:${process.env.PATH}`, XDG_CONFIG_HOME: path.join(h, "xdg"), XDG_CONFIG_DIRS: path.join(h, "xdg-dirs") };
  const r = await runCommand("bash", ["-euc", script], { env, cwd: h });
  assert.equal(r.code, 0, `snippet failed: ${r.stderr}`);
}

const mode = (p: string) => statSync(p).mode & 0o777;

describe("README: the ssh-config block and its Include line", () => {
  const block = snippet("ssh-config-include");
  const includeLine = block.split("\n").find((l) => l.includes(INCLUDE));

  test("the block has the Include line, and that line is one shell line", () => {
    assert.ok(includeLine, "no line mentions the Include");
    assert.match(includeLine, /^\(umask 077;.*\)$/);
  });

  test("without ~/.ssh/config: the whole block creates it with mode 0600, the Include alone in it, and the snippet beside it", async () => {
    const h = home("none");
    await runSnippet(block, h);
    await runSnippet(block, h);
    const config = path.join(h, ".ssh", "config");
    assert.equal(readFileSync(config, "utf8"), `${INCLUDE}\n`);
    assert.equal(mode(config), 0o600);
    const conf = readFileSync(path.join(h, ".ssh", "config.d", "ssh2vsock.conf"), "utf8");
    assert.match(conf, /^Host vsock\/\* vsock%\*/m);
    assert.match(conf, /ProxyCommand .* proxy %h %p/);
    assert.equal(existsSync(`${config}.new`), false, "the temporary file is left behind");
  });

  test("an empty ~/.ssh/config gets the Include and keeps its mode", async () => {
    const h = home("empty", (ssh) => {
      mkdirSync(ssh);
      writeFileSync(path.join(ssh, "config"), "");
      chmodSync(path.join(ssh, "config"), 0o644);
    });
    await runSnippet(includeLine!, h);
    await runSnippet(includeLine!, h);
    const config = path.join(h, ".ssh", "config");
    assert.equal(readFileSync(config, "utf8"), `${INCLUDE}\n`);
    assert.equal(mode(config), 0o644);
  });

  test("a config with Host blocks gets the Include first, everything else kept, once", async () => {
    const before = "# mine\nHost build\n    HostName build.example.com\n    User ci\n\nHost *\n    ServerAliveInterval 30\n";
    const h = home("hosts", (ssh) => {
      mkdirSync(ssh);
      writeFileSync(path.join(ssh, "config"), before, { mode: 0o640 });
      chmodSync(path.join(ssh, "config"), 0o640);
    });
    await runSnippet(includeLine!, h);
    await runSnippet(includeLine!, h);
    const config = path.join(h, ".ssh", "config");
    assert.equal(readFileSync(config, "utf8"), `${INCLUDE}\n${before}`);
    assert.equal(mode(config), 0o640);
  });

  test("a config that is a symlink stays a symlink, and its target gets the Include", async () => {
    const h = home("link", (ssh) => {
      mkdirSync(ssh);
      writeFileSync(path.join(ssh, "dotfiles-config"), "Host a\n    User b\n", { mode: 0o600 });
      symlinkSync("dotfiles-config", path.join(ssh, "config"));
    });
    await runSnippet(includeLine!, h);
    await runSnippet(includeLine!, h);
    const config = path.join(h, ".ssh", "config");
    assert.ok(lstatSync(config).isSymbolicLink());
    assert.equal(readlinkSync(config), "dotfiles-config");
    assert.equal(readFileSync(config, "utf8"), `${INCLUDE}\nHost a\n    User b\n`);
  });
});

describe("README: the smallest configuration", () => {
  test("config check accepts it", async () => {
    const h = home("smallest");
    const file = path.join(h, "config.toml");
    writeFileSync(file, snippet("smallest-config") + "\n");
    const r = await runCli(["config", "check", "-c", file], { env: { HOME: h, XDG_CONFIG_HOME: path.join(h, "xdg"), XDG_CONFIG_DIRS: path.join(h, "xdg-dirs") }, cwd: h });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim(), `${file}: ok (1 guest)`);
    assert.equal(r.stderr, "");
  });
});
