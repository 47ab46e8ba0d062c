// Crafted peers against the binary: a fake hypervisor on loopback whose identification line and
// DISCONNECT carry terminal escapes, and a fake socat/virsh whose stderr and banner do the same.
// Nothing they say may reach the user's terminal with its control characters intact.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, type CliResult } from "./_cli.ts";

/** Clears the screen, sets the window title, rings, returns the cursor, a C1 CSI, a bidi override. */
const HOSTILE = "\x1b[2J\x1b]0;owned\x07\rfake ok\u009b31m\u202eevil";
/** The same, as it must appear once escaped. */
const ESCAPED = /\\x1b\[2J\\x1b\]0;owned\\x07\\x0dfake ok\\x9b31m\\u202eevil/;

/** Fails when anything a terminal acts on (other than the line feed ending a line) is in `text`. */
function assertInert(text: string, where: string): void {
  const bad = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.exec(text);
  assert.equal(bad, null, `${where} holds a raw control character at ${bad?.index}: ${JSON.stringify(text)}`);
}

function assertAllInert(r: CliResult, what: string): void {
  assertInert(r.stdout, `${what}: stdout`);
  assertInert(r.stderr, `${what}: stderr`);
}

/** An SSH binary packet (before any key exchange: no MAC, no encryption). */
function packet(payload: Buffer): Buffer {
  let pad = 8 - ((5 + payload.length) % 8);
  if (pad < 4) pad += 8;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(1 + payload.length + pad, 0);
  head[4] = pad;
  return Buffer.concat([head, payload, Buffer.alloc(pad)]);
}

function sshString(s: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(s.length, 0);
  return Buffer.concat([len, s]);
}

/** SSH_MSG_DISCONNECT with reason 2 (protocol error) and `text`. */
function disconnect(text: string): Buffer {
  const reason = Buffer.alloc(4);
  reason.writeUInt32BE(2, 0);
  return packet(Buffer.concat([Buffer.from([1]), reason, sshString(Buffer.from(text, "utf8")), sshString(Buffer.alloc(0))]));
}

/** The identification line and the DISCONNECT a hostile server sends before any key is seen. */
const IDENT = `SSH-2.0-Evil_1.0 ${HOSTILE.replace("\r", "")}\r\n`;
const GREETING = Buffer.concat([Buffer.from(IDENT, "utf8"), disconnect(`go away ${HOSTILE}`)]);

let dir: string;
let server: net.Server;
let port: number;
let pub: string;
let key: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "s2v-peer-text-"));
  key = join(dir, "id");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", key]);
  pub = readFileSync(`${key}.pub`, "utf8").trim();
  server = net.createServer((s) => {
    s.on("error", () => {});
    s.end(GREETING);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as net.AddressInfo).port;
});
after(() => {
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeToml(name: string, toml: string): string {
  const path = join(dir, `${name}.toml`);
  writeFileSync(path, toml, { mode: 0o600 });
  return path;
}

/** A config whose hypervisor is the hostile server; both hops have a trusted key, so it dials. */
function hostileHypervisor(): string {
  return writeToml("hostile-hv", [
    "[hypervisor]",
    `hostname = "127.0.0.1"`,
    `port = ${port}`,
    `known_hosts = [${JSON.stringify(`[127.0.0.1]:${port} ${pub}`)}]`,
    `ssh_private_key = ${JSON.stringify(key)}`,
    "[guests.g]",
    "cid = 3",
    `hostname = "g.example.com"`,
    `known_hosts = [${JSON.stringify(`g.example.com ${pub}`)}]`,
    "",
  ].join("\n"));
}

interface Report {
  checks: { id: string; status: string; detail: string; hint?: string }[];
}

describe("a hostile hypervisor", () => {
  test("tunnel: its DISCONNECT text is shown escaped in the error (and in the -vv trace)", async () => {
    const cfg = hostileHypervisor();
    const r = await runCli(["tunnel", "-c", cfg, "g"], { timeoutMs: 30_000 });
    assert.notEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /go away /);
    assert.match(r.stderr, ESCAPED, r.stderr);
    assertAllInert(r, "tunnel");
    const vv = await runCli(["tunnel", "-vv", "-c", cfg, "g"], { timeoutMs: 30_000 });
    assert.match(vv.stderr, /DISCONNECT/, vv.stderr);
    assertAllInert(vv, "tunnel -vv");
  });

  test("tunnel --log-format json: the error object carries the text escaped", async () => {
    const r = await runCli(["tunnel", "--log-format", "json", "-c", hostileHypervisor(), "g"], { timeoutMs: 30_000 });
    const last = JSON.parse(r.stderr.trim().split("\n").at(-1)!) as { detail: string };
    assertInert(last.detail, "detail");
    assert.match(last.detail, ESCAPED);
  });

  test("doctor: its identification line and its DISCONNECT text are shown escaped, human and --json", async () => {
    const cfg = hostileHypervisor();
    const human = await runCli(["doctor", "-c", cfg, "--no-input", "g"], { env: { NO_COLOR: "1" }, timeoutMs: 60_000 });
    assert.equal(human.code, 1, human.stderr);
    assertAllInert(human, "doctor");
    const r = await runCli(["doctor", "-c", cfg, "--json", "--no-input", "g"], { timeoutMs: 60_000 });
    const report = JSON.parse(r.stdout) as Report;
    for (const c of report.checks) {
      assertInert(c.detail, `${c.id}.detail`);
      assertInert(c.hint ?? "", `${c.id}.hint`);
    }
    const tcp = report.checks.find((c) => c.id === "hypervisor-tcp")!;
    assert.equal(tcp.status, "pass", tcp.detail);
    assert.match(tcp.detail, /server says SSH-2\.0-Evil_1\.0 \\x1b\[2J\\x1b\]0;owned\\x07fake ok/);
    const hk = report.checks.find((c) => c.id === "hypervisor-host-key")!;
    assert.equal(hk.status, "fail");
    assert.match(hk.detail, ESCAPED, hk.detail);
  });
});

describe("a hostile relay on a local hypervisor (fake socat and virsh)", () => {
  let bin: string;
  before(() => {
    bin = join(dir, "bin");
    execFileSync("mkdir", ["-p", bin]);
    writeFileSync(join(dir, "hostile.txt"), `${HOSTILE}\n`);
    writeFileSync(join(dir, "banner.bin"), Buffer.concat([Buffer.from(`SSH-2.0-Evil_1.0 ${HOSTILE.replace("\r", "")}\r\n`, "utf8"), disconnect(`go away ${HOSTILE}`)]));
    // -V answers like a socat with VSOCK; CID 3 greets with a hostile banner; CID 4 fails with hostile stderr.
    const socat = [
      "#!/bin/sh",
      `if [ "$1" = "-V" ]; then printf 'socat version 1.7.4.4\\n  #define WITH_VSOCK 1\\n'; exit 0; fi`,
      `case "$*" in *VSOCK-CONNECT:3:*) cat ${JSON.stringify(join(dir, "banner.bin"))}; sleep 2; exit 0;; esac`,
      `cat ${JSON.stringify(join(dir, "hostile.txt"))} >&2`,
      "exit 1",
      "",
    ].join("\n");
    writeFileSync(join(bin, "socat"), socat);
    writeFileSync(join(bin, "virsh"), `#!/bin/sh\ncat ${JSON.stringify(join(dir, "hostile.txt"))} >&2\nexit 1\n`);
    chmodSync(join(bin, "socat"), 0o755);
    chmodSync(join(bin, "virsh"), 0o755);
  });

  function localConfig(): string {
    return writeToml("local", [
      "[hypervisor]",
      "local = true",
      `socat = ${JSON.stringify(join(bin, "socat"))}`,
      "[guests.banner]",
      "cid = 3",
      `hostname = "g.example.com"`,
      `known_hosts = [${JSON.stringify(`g.example.com ${pub}`)}]`,
      "[guests.dead]",
      "cid = 4",
      `hostname = "g.example.com"`,
      `known_hosts = [${JSON.stringify(`g.example.com ${pub}`)}]`,
      "",
    ].join("\n"));
  }

  test("proxy: socat's stderr is shown escaped when the relay fails", async () => {
    const r = await runCli(["proxy", "-c", localConfig(), "dead"], { timeoutMs: 30_000 });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, ESCAPED, r.stderr);
    assertAllInert(r, "proxy");
  });

  test("proxy: virsh's stderr is shown escaped when the domain lookup fails", async () => {
    const r = await runCli(["proxy", "-c", localConfig(), "qemu/web3"], { env: { PATH: `${bin}:${process.env.PATH}` }, timeoutMs: 30_000 });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /libvirt/);
    assert.match(r.stderr, ESCAPED, r.stderr);
    assertAllInert(r, "proxy qemu/");
  });

  test("doctor: the guest's banner and the guest's DISCONNECT text are shown escaped", async () => {
    const r = await runCli(["doctor", "-c", localConfig(), "--json", "--no-input", "banner"], { timeoutMs: 60_000 });
    const report = JSON.parse(r.stdout) as Report;
    for (const c of report.checks) assertInert(c.detail, `${c.id}.detail`);
    const banner = report.checks.find((c) => c.id === "guest-banner")!;
    assert.equal(banner.status, "pass", banner.detail);
    assert.match(banner.detail, /answered: SSH-2\.0-Evil_1\.0 \\x1b\[2J\\x1b\]0;owned\\x07fake ok/);
    const hk = report.checks.find((c) => c.id === "guest-host-key")!;
    assert.equal(hk.status, "fail", hk.detail);
    assert.match(hk.detail, ESCAPED, hk.detail);
    const human = await runCli(["doctor", "-c", localConfig(), "--no-input", "banner"], { env: { NO_COLOR: "1" }, timeoutMs: 60_000 });
    assertAllInert(human, "doctor human");
  });

  test("doctor: a failing relay's stderr is shown escaped", async () => {
    const r = await runCli(["doctor", "-c", localConfig(), "--json", "--no-input", "dead"], { timeoutMs: 60_000 });
    const report = JSON.parse(r.stdout) as Report;
    for (const c of report.checks) assertInert(c.detail, `${c.id}.detail`);
    const banner = report.checks.find((c) => c.id === "guest-banner")!;
    assert.equal(banner.status, "fail");
    assert.match(banner.detail, ESCAPED, banner.detail);
  });
});
