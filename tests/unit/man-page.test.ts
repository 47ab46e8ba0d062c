// ssh2vsock(1) follows the code it documents: every visible command, option and argument of the
// command tree, every configuration key, search path entry, target form, variable and exit code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { buildProgram } from "../../src/main.ts";
import { KEY_DESCRIPTIONS, manPage, roff } from "../../src/cli/man-page.ts";
import { COLON_TARGET_PREFIXES, TARGET_PREFIXES } from "../../src/cli/completion-spec.ts";
import { OPT_OUT } from "../../src/cli/runtime-tuning.ts";
import { ATTRIBUTES } from "../../src/core/config/schema.ts";
import { configSearchPath } from "../../src/core/config/search.ts";
import { ExitCode } from "../../src/core/errors.ts";

const page = manPage(buildProgram(), { version: "9.9.9", date: "2026-01-02" });
const section = (name: string) => {
  const start = page.indexOf(`\n.SH ${name}\n`);
  assert.ok(start >= 0, `no section ${name}`);
  const end = page.indexOf("\n.SH ", start + 1);
  return page.slice(start, end < 0 ? undefined : end);
};
const isHidden = (c: Command) => (c as unknown as { _hidden?: boolean })._hidden === true;

function* commands(c: Command, at: string): Generator<[Command, string]> {
  for (const s of c.commands.filter((s) => !isHidden(s))) {
    yield [s, `${at} ${s.name()}`];
    yield* commands(s, `${at} ${s.name()}`);
  }
}

test("has the title line and the sections a man page is read by", () => {
  assert.match(page, /^\.TH SSH2VSOCK 1 "2026-01-02" "ssh2vsock 9\.9\.9" "User Commands"$/m);
  for (const s of ["NAME", "SYNOPSIS", "DESCRIPTION", "GLOBAL OPTIONS", "COMMANDS", "TARGETS", "CONFIGURATION", "FILES", "ENVIRONMENT", "EXIT STATUS", "SEE ALSO"]) {
    assert.ok(page.includes(`\n.SH ${s}\n`), s);
  }
  assert.match(section("NAME"), /^ssh2vsock \\- verified SSH/m);
});

test("documents every visible command, its arguments and its options, and no hidden one", () => {
  const program = buildProgram();
  for (const o of program.options) assert.ok(section("GLOBAL OPTIONS").includes(`\\fB${roff(o.long!)}\\fR`), o.flags);
  for (const [c, at] of commands(program, "ssh2vsock")) {
    const head = `.SS "${roff(`${at} ${c.usage()}`)}"`;
    const start = page.indexOf(head);
    assert.ok(start >= 0, head);
    const body = page.slice(start, page.indexOf("\n.SS ", start + 1));
    for (const a of c.registeredArguments) assert.ok(body.includes(`\\fI${roff(a.name())}`), `${at}: argument ${a.name()}`);
    for (const o of c.options) assert.ok(body.includes(`\\fB${roff(o.long!)}\\fR`), `${at}: ${o.flags}`);
    assert.ok(section("SYNOPSIS").includes(`\\fB${roff(at)}\\fR`) || c.commands.length > 0, `synopsis: ${at}`);
  }
  assert.ok(!page.includes("complete\\-guests"), "the hidden helper is not documented");
});

test("describes every configuration key of the schema, and only those", () => {
  assert.deepEqual(Object.keys(KEY_DESCRIPTIONS).sort(), ATTRIBUTES.map((a) => a.name).sort());
  const keys = section("CONFIGURATION");
  for (const a of ATTRIBUTES) assert.ok(keys.includes(`.TP\n\\fB${roff(a.name)}\\fR (${roff(a.type)};`), a.name);
});

test("FILES lists the configuration search path as the code searches it", () => {
  const files = section("FILES");
  for (const p of configSearchPath({ XDG_CONFIG_HOME: "/XH", XDG_CONFIG_DIRS: "/XD" }, "/home/u")) {
    assert.ok(files.includes(roff(p.replace("/XH", "$XDG_CONFIG_HOME").replace("/XD", "$XDG_CONFIG_DIRS"))), p);
  }
  assert.ok(files.includes("$SSH2VSOCK_CONFIG"));
});

test("TARGETS names every form the completions offer, colon-free and colon spellings", () => {
  for (const prefix of [...TARGET_PREFIXES, ...COLON_TARGET_PREFIXES]) assert.ok(section("TARGETS").includes(`\\fB${roff(prefix)}`), prefix);
});

test("ENVIRONMENT names every variable the source reads", () => {
  const src = fileURLToPath(new URL("../../src", import.meta.url));
  const read = new Set<string>([OPT_OUT]);
  for (const f of readdirSync(src, { recursive: true }) as string[]) {
    if (!f.endsWith(".ts")) continue;
    for (const m of readFileSync(path.join(src, f), "utf8").matchAll(/\benv(?:\.|\[")([A-Z][A-Z0-9_]+)/g)) read.add(m[1]!);
  }
  for (const v of ["NO_COLOR", "FORCE_COLOR", "TERM", "XDG_CONFIG_HOME", "SSH_AUTH_SOCK"]) assert.ok(read.has(v), `the scan finds ${v}`);
  for (const v of read) assert.ok(section("ENVIRONMENT").includes(roff(v)), v);
});

test("EXIT STATUS lists every exit code", () => {
  for (const code of Object.values(ExitCode)) assert.ok(section("EXIT STATUS").includes(`.TP\n\\fB${code}\\fR\n`), String(code));
});

test("is plain ASCII roff: only known requests start a line, and every hyphen in text is escaped", () => {
  assert.ok(/^[\x00-\x7f]*$/.test(page), "non-ASCII character");
  for (const line of page.split("\n")) {
    if (/^[.']/.test(line)) assert.match(line, /^\.(TH|SH|SS|TP|PP|br|nf|fi|\\")( |$)/, line);
    if (line.startsWith(".TH") || line.startsWith('.\\"')) continue;
    assert.ok(!/(^|[^\\])-/.test(line), `unescaped hyphen: ${line}`);
  }
});

test("roff escapes backslashes, hyphens and a leading dot or apostrophe", () => {
  assert.equal(roff("-c FILE"), "\\-c FILE");
  assert.equal(roff("a\\b"), "a\\eb");
  assert.equal(roff(".hidden"), "\\&.hidden");
  assert.equal(roff("'quoted"), "\\&'quoted");
  assert.equal(roff("ssh://…"), "ssh://...");
});
