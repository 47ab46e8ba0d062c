// ssh2vsock(1) as man-db and groff read it: scripts/man writes it, `man -l` renders it without a
// warning, and the rendered page names every command the binary's --help lists.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, runCli, runCommand } from "./_cli.ts";

let dir = "";
let page = "";
const env = () => ({ MANWIDTH: "80", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", MANPAGER: "cat", PAGER: "cat", HOME: dir });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "s2v-man-"));
  page = join(dir, "ssh2vsock.1");
  const r = await runCommand(join(repoRoot, "scripts/man"), [page], { env: { SOURCE_DATE_EPOCH: "1767225600" } });
  assert.equal(r.code, 0, r.stderr);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe("the man page", () => {
  test("scripts/man writes roff dated by SOURCE_DATE_EPOCH", () => {
    assert.match(readFileSync(page, "utf8"), /^\.TH SSH2VSOCK 1 "2026-01-01" "ssh2vsock [0-9.]+" "User Commands"$/m);
  });

  test("groff reads it without a single warning", async () => {
    const r = await runCommand("groff", ["-man", "-ww", "-z", page], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  });

  test("man -l renders it at 80 columns without warnings, with NAME, SYNOPSIS and EXIT STATUS", async () => {
    const r = await runCommand("man", ["--warnings", "-P", "cat", "-l", page], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    for (const heading of ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "TARGETS", "CONFIGURATION", "FILES", "ENVIRONMENT", "EXIT STATUS", "SEE ALSO"]) {
      assert.match(r.stdout, new RegExp(`^${heading}$`, "m"), heading);
    }
    assert.ok(/^ {7}ssh2vsock +- +verified SSH into virtual machines/m.test(r.stdout), r.stdout.slice(0, 400));
    assert.ok(r.stdout.split("\n").every((l) => l.length <= 80), "a line wider than MANWIDTH");
  });

  test("the rendered page has a section for every command the binary's --help lists", async () => {
    const help = await runCli(["--help"]);
    assert.equal(help.code, 0, help.stderr);
    const listed = [...help.stdout.split("Commands:")[1]!.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((c) => c !== "help");
    assert.ok(listed.length >= 10, listed.join(" "));
    const r = await runCommand("man", ["-P", "cat", "-l", page], { env: env() });
    for (const c of listed) assert.match(r.stdout, new RegExp(`^ {3}ssh2vsock ${c} `, "m"), c);
  });

  test("man finds it by name once installed under a man1 directory on MANPATH", async () => {
    mkdirSync(join(dir, "share/man/man1"), { recursive: true });
    copyFileSync(page, join(dir, "share/man/man1/ssh2vsock.1"));
    const r = await runCommand("man", ["-P", "cat", "ssh2vsock"], { env: { ...env(), MANPATH: join(dir, "share/man") } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^EXIT STATUS$/m);
  });
});
