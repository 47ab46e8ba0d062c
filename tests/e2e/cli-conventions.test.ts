// The conventions every command shares, checked on the real binary: argument-parser errors in one
// line (or one JSON object), --version, one JSON rule, colour and cursor control, one port parser,
// help texts, exit 2 for a malformed target, errno codes in words.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot, runCli, runCommand, cliShell, type CliResult } from "./_cli.ts";

let dir: string;
/** No configuration anywhere on the search path: cwd, HOME and the XDG dirs are this empty dir. */
let isolated: Record<string, string>;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "s2v-conventions-"));
  isolated = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, "xdg"), XDG_CONFIG_DIRS: path.join(dir, "xdg-dirs") };
});
after(() => rmSync(dir, { recursive: true, force: true }));

function writeFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const run = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  runCli(args, { cwd: dir, env: { ...isolated, ...env }, timeoutMs: 30_000 });

const lines = (text: string): string[] => text.split("\n").filter((l) => l !== "");

/** A hypervisor nothing listens on: every check after the configuration fails fast. */
const UNREACHABLE = `[hypervisor]
hostname = "127.0.0.1"
port = 1
known_hosts_file = "/nonexistent/known_hosts"
ssh_use_agent = true
connect_timeout = 5

[guests.web1]
cid = 3
hostname = "web1.example.com"
`;

describe("argument-parser errors are one line and a hint, exit 2", () => {
  const cases: Array<{ args: string[]; says: RegExp; hint: string }> = [
    { args: ["--bogus"], says: /^ssh2vsock: unknown option '--bogus'$/, hint: "hint: see ssh2vsock --help" },
    { args: ["bogus"], says: /^ssh2vsock: unknown command 'bogus'$/, hint: "hint: see ssh2vsock --help" },
    {
      args: ["completions", "powershell"],
      says: /^ssh2vsock: completions: shell: expected bash, zsh or fish, got "powershell"$/,
      hint: "hint: see ssh2vsock completions --help",
    },
    { args: ["proxy"], says: /^ssh2vsock: proxy: missing required argument 'target'$/, hint: "hint: see ssh2vsock proxy --help" },
    { args: ["tunnel", "--bogus"], says: /^ssh2vsock: tunnel: unknown option '--bogus'$/, hint: "hint: see ssh2vsock tunnel --help" },
  ];
  for (const c of cases) {
    test(`ssh2vsock ${c.args.join(" ")}`, async () => {
      const r = await run(c.args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      const [first, second, ...rest] = lines(r.stderr);
      assert.match(first ?? "", c.says);
      assert.equal(second, c.hint);
      assert.deepEqual(rest, [], "no help after the error");
    });
  }

  const jsonCases = [
    ["--log-format", "json", "--bogus"],
    ["--bogus", "--log-format", "json"],
    ["--log-format=json", "bogus"],
    ["--log-format", "json", "completions", "powershell"],
    ["proxy", "--log-format", "json"],
  ];
  for (const args of jsonCases) {
    test(`ssh2vsock ${args.join(" ")} writes one JSON error object`, async () => {
      const r = await run(args);
      assert.equal(r.code, 2, r.stderr);
      const all = lines(r.stderr);
      assert.equal(all.length, 1, r.stderr);
      const line = JSON.parse(all[0]!);
      assert.deepEqual(Object.keys(line), ["time", "level", "event", "guest", "hop", "detail"]);
      assert.equal(line.level, "error");
      assert.equal(line.event, "usage");
      assert.match(line.detail, /\(hint: see ssh2vsock( \w+)? --help\)$/);
    });
  }

  test("an unknown --log-format is refused in the same wording", async () => {
    const r = await run(["--log-format", "xml", "config", "show"]);
    assert.equal(r.code, 2);
    assert.deepEqual(lines(r.stderr), ['ssh2vsock: --log-format: expected human or json, got "xml"', "hint: see ssh2vsock --help"]);
  });
});

describe("--version", () => {
  test("prints the version, the runtime, the platform and the commit it was built from", async () => {
    const r = await run(["--version"]);
    assert.equal(r.code, 0, r.stderr);
    const m = /^ssh2vsock (\S+) \((bun|deno) \d+\.\d+\.\d+\S*, (linux|darwin)-(x64|arm64), commit ([0-9a-f]{7,})\)\n$/.exec(r.stdout);
    assert.ok(m, `unexpected: ${JSON.stringify(r.stdout)}`);
    assert.equal(m[1], JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).version);
    const known = await runCommand("git", ["-C", repoRoot, "rev-parse", "--verify", `${m[5]}^{commit}`]);
    assert.equal(known.code, 0, `commit ${m[5]} is not in this repository`);
  });

  test("the build bakes in git's commit, and \"unknown\" outside a git checkout", async () => {
    const build = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).scripts.build as string;
    assert.match(build, /^bun build /);
    const dryRun = build.replace(/^bun build /, "echo ");
    const env = { SSH2VSOCK_COMMIT: "" };
    const head = (await runCommand("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"])).stdout.trim();
    const inRepo = await runCommand("sh", ["-c", dryRun], { cwd: repoRoot, env });
    assert.match(inRepo.stdout, new RegExp(`--define SSH2VSOCK_COMMIT="${head}" `));
    const outside = await runCommand("sh", ["-c", dryRun], { cwd: dir, env: { ...env, GIT_CEILING_DIRECTORIES: path.dirname(dir) } });
    assert.match(outside.stdout, /--define SSH2VSOCK_COMMIT="unknown" /);
  });
});

/** Every key of a JSON value, recursively; the keys of `guests` are guest names, not attributes. */
function keysOf(value: unknown, into: string[] = [], namesHere = false): string[] {
  if (Array.isArray(value)) value.forEach((v) => keysOf(v, into));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (!namesHere) into.push(k);
      keysOf(v, into, k === "guests" && !namesHere);
    }
  }
  return into;
}

const SNAKE = /^[a-z][a-z0-9_]*$/;

describe("JSON output: one document per result, snake_case keys named as in the config file", () => {
  test("config show speaks the file's names and units, secrets redacted", async () => {
    const cfg = writeFile(
      "show.toml",
      `[hypervisor]
hostname = "hv1.example.com"
known_hosts_file = "/kh"
password = "not-shown-pw"
connect_timeout = 7.5

[hypervisors.hv2]
hostname = "hv2.example.com"
mode = "forward"

[guests.web1]
cid = 3
hostname = "web1.example.com"
listen = "127.0.0.1:2201"
shutdown_timeout = 2.5

[guests.web-2]
unix_socket = "/run/web2.sock"
hostname = "web2.example.com"
hypervisor = "hv2"
target = "127.0.0.1:8080"
`,
    );
    const r = await run(["config", "show", "-c", cfg]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /not-shown-pw/);
    const doc = JSON.parse(r.stdout);
    for (const k of keysOf(doc)) assert.match(k, SNAKE, `key ${k}`);
    assert.deepEqual(Object.keys(doc.guests), ["web1", "web-2"]);
    const web1 = doc.guests.web1;
    assert.equal(web1.cid, 3);
    assert.equal(web1.connect_timeout, 7.5, "seconds, inherited from [hypervisor]");
    assert.equal(web1.keepalive_interval, 15, "the default, in seconds");
    assert.equal(web1.shutdown_timeout, 2.5);
    assert.equal(web1.listen, "127.0.0.1:2201");
    assert.equal(web1.hypervisor.password, "<redacted>");
    const web2 = doc.guests["web-2"];
    assert.equal(web2.unix_socket, "/run/web2.sock");
    assert.equal(web2.mode, "forward");
    assert.equal(web2.shutdown_timeout, 10);
    assert.equal(web2.hypervisor.hostname, "hv2.example.com");
    assert.equal(web2.hypervisor.origins.hypervisor, "hypervisors.hv2");
    assert.equal(doc.hypervisor.hostname, "hv1.example.com", "the default hypervisor");
  });

  test("config show without guests shows the default hypervisor", async () => {
    const cfg = writeFile("no-guests.toml", `[hypervisor]\nhostname = "hv1.example.com"\nknown_hosts_file = "/kh"\nssh_use_agent = true\n`);
    const doc = JSON.parse((await run(["config", "show", "-c", cfg])).stdout);
    assert.deepEqual(doc.guests, {});
    assert.equal(doc.hypervisor.hostname, "hv1.example.com");
    assert.equal(doc.hypervisor.ssh_use_agent, true);
  });

  test("config show without any file shows the local hypervisor, or --hypervisor's", async () => {
    const none = await run(["config", "show"]);
    assert.equal(none.code, 0, none.stderr);
    const doc = JSON.parse(none.stdout);
    assert.equal(doc.file, null);
    assert.deepEqual(doc.guests, {});
    assert.equal(doc.hypervisor.local, true);
    const cli = JSON.parse((await run(["--hypervisor", "alice@hv9.example.com:2222", "config", "show"])).stdout);
    assert.equal(cli.hypervisor.hostname, "hv9.example.com");
    assert.equal(cli.hypervisor.port, 2222);
    assert.equal(cli.hypervisor.username, "alice");
    assert.equal(cli.hypervisor.origins.hypervisor, "--hypervisor");
  });

  test("config show refuses a --hypervisor holding a password (exit 2) instead of leaving it out", async () => {
    for (const spec of ["alice:S3cret@hv1", "ssh://alice:S3cret@hv1"]) {
      const r = await run(["--hypervisor", spec, "config", "show"]);
      assert.equal(r.code, 2, `${spec}: ${r.stdout}`);
      assert.equal(r.stdout, "");
      assert.doesNotMatch(r.stderr, /S3cret/);
      assert.match(r.stderr, /--hypervisor/);
    }
  });

  test("sshfp --json prints one array of records with snake_case keys", async () => {
    const key = path.join(dir, "id_sshfp");
    const gen = await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    assert.equal(gen.code, 0, gen.stderr);
    const r = await run(["sshfp", "h.example.com", "--json", `${key}.pub`]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.ok(Array.isArray(doc));
    assert.deepEqual(Object.keys(doc[0]), ["algorithm", "fingerprint_type", "fingerprint"]);
  });

  test("doctor --json prints one document on stdout, even when a check fails", async () => {
    const cfg = writeFile("doctor.toml", UNREACHABLE);
    const r = await run(["doctor", "-c", cfg, "--json", "--no-input", "web1"]);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(doc), ["target", "checks", "ok"]);
    for (const k of keysOf(doc)) assert.match(k, SNAKE, `key ${k}`);
    assert.equal(doc.ok, false);
  });
});

/** Runs doctor on a pseudo-terminal (util-linux `script`), so it is interactive and may colour. */
async function doctorOnTerminal(env: Record<string, string>): Promise<string> {
  const cfg = writeFile("doctor-tty.toml", UNREACHABLE);
  const cmd = `${cliShell()} doctor -c '${cfg}' web1`;
  const r = await runCommand("script", ["-qefc", cmd, "/dev/null"], { cwd: dir, env: { ...isolated, NO_COLOR: "", FORCE_COLOR: "", ...env }, timeoutMs: 30_000 });
  assert.match(r.stdout, /FAIL/, `doctor did not run: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

const SGR = /\x1b\[[0-9;]*m/;

describe("colour and cursor control", () => {
  test("a terminal gets colour by default (so the tests below can fail)", async () => {
    assert.match(await doctorOnTerminal({ TERM: "xterm" }), SGR);
  });

  test("NO_COLOR: no colour codes on a terminal", async () => {
    assert.doesNotMatch(await doctorOnTerminal({ TERM: "xterm", NO_COLOR: "1" }), SGR);
  });

  test("TERM=dumb: no escape sequence at all, the spinner's cursor codes included", async () => {
    const out = await doctorOnTerminal({ TERM: "dumb" });
    assert.doesNotMatch(out, /\x1b/);
  });

  test("TERM=dumb: doctor's guest picker asks line by line, without escape sequences", async () => {
    const cfg = writeFile("doctor-two.toml", `${UNREACHABLE}\n[guests.web2]\ncid = 4\nhostname = "web2.example.com"\n`);
    const r = await runCommand("script", ["-qefc", `${cliShell()} doctor -c '${cfg}'`, "/dev/null"], {
      cwd: dir,
      env: { ...isolated, TERM: "dumb", NO_COLOR: "", FORCE_COLOR: "" },
      input: "2\n",
      timeoutMs: 30_000,
    });
    assert.match(r.stdout, /1\) web1[\s\S]*2\) web2/);
    assert.match(r.stdout, /guest web2 \(vsock CID 4/, "the answer chose web2");
    assert.doesNotMatch(r.stdout, /\x1b/);
  });

  test("FORCE_COLOR colours even a pipe; a plain pipe gets none", async () => {
    const cfg = writeFile("doctor-pipe.toml", UNREACHABLE);
    const forced = await run(["doctor", "-c", cfg, "--no-input", "web1"], { FORCE_COLOR: "1", NO_COLOR: "" });
    assert.match(forced.stdout, SGR);
    const plain = await run(["doctor", "-c", cfg, "--no-input", "web1"], { FORCE_COLOR: "", NO_COLOR: "" });
    assert.match(plain.stdout, /FAIL/);
    assert.doesNotMatch(plain.stdout + plain.stderr, /\x1b/);
  });
});

describe("one port parser", () => {
  test("proxy --port 0, proxy's PORT 0 and known-hosts --port 0 say the same, exit 2", async () => {
    const key = path.join(dir, "id_port");
    await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    const said: string[] = [];
    for (const args of [["proxy", "--port", "0", "vsock/3"], ["proxy", "vsock/3", "0"], ["known-hosts", "--port", "0", "h", `${key}.pub`]]) {
      const r = await run(args);
      assert.equal(r.code, 2, r.stderr);
      const [first, hint] = lines(r.stderr);
      said.push(`${first!.replace(/^ssh2vsock: (--port|PORT): /, "")} / ${hint}`);
    }
    assert.deepEqual(said, Array(3).fill("port 0 is outside 1 … 65535 / hint: give a port number from 1 to 65535"));
  });

  test("a vsock port above 65535 is refused like a TCP one", async () => {
    const r = await run(["proxy", "--port", "70000", "vsock/3"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ssh2vsock: --port: port 70000 is outside 1 … 65535$/m);
  });
});

describe("help texts", () => {
  const commands = ["tunnel", "proxy", "run", "keyscan", "known-hosts", "sshfp", "doctor", "ssh-config", "completions", "config show"];
  for (const c of commands) {
    test(`${c} --help lists the global options and points to ssh2vsock(1)`, async () => {
      const r = await run([...c.split(" "), "--help"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Global Options:[\s\S]*--log-format/);
      assert.match(r.stdout, /see ssh2vsock\(1\)/);
    });
  }

  test("run --help states --guest's default once", async () => {
    const r = await run(["run", "--help"]);
    const guest = /--guest <target>[\s\S]*?(?=\n  -)/.exec(r.stdout)?.[0] ?? "";
    assert.match(guest, /default: every configured\s+guest/);
    assert.equal(guest.match(/default/g)?.length, 1, guest);
  });
});

describe("exit codes and messages", () => {
  test("doctor with a malformed target exits 2, like every other command", async () => {
    const r = await run(["doctor", "--no-input", "vsock/abc"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^ssh2vsock: .*vsock\/abc/m);
    const other = await run(["proxy", "vsock/abc"]);
    assert.equal(other.code, 2, "the reference: proxy");
    const json = await run(["doctor", "--no-input", "--json", "vsock/abc"]);
    assert.equal(json.code, 2);
    assert.equal(JSON.parse(json.stdout).ok, false);
  });

  test("a missing Unix socket is named in words, without the errno code", async () => {
    const r = await run(["--hypervisor", "local", "proxy", "unix/./rel"]);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /no socket at \.\/rel/);
    assert.doesNotMatch(r.stderr, /\bE[A-Z]{3,}\b/);
  });
});
