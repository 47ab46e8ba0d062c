// `known-hosts`, `sshfp` and `keyscan` run as users run them: one host per line and no extra
// lines whatever HOSTNAME holds, `-` for stdin, errors in words, `--json`, `--cert-authority`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLab, type Lab } from "../lab/lab.ts";
import { runCli, runCommand } from "./_cli.ts";

let dir: string;
let pub: string;
let ca: string;
const fingerprint = (file: string) => execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", file], { encoding: "utf8" }).split(" ")[1]!;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "s2v-generators-"));
  pub = join(dir, "host.pub");
  ca = join(dir, "ca.pub");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host")]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "ca")]);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("HOSTNAME is one host, never a pattern or extra lines", () => {
  const hostile = ["web1,*", "*", "web?", "!web1", "web1\n@revoked * ssh-ed25519 AAAA", "web1\nx IN SSHFP 4 2 00", "web1 x", "web1\u001b[2J"];
  for (const command of ["known-hosts", "sshfp"]) {
    for (const host of hostile) {
      test(`${command} ${JSON.stringify(host)} exits 2 and prints nothing on stdout`, async () => {
        const r = await runCli([command, host, pub]);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /^ssh2vsock: /);
        assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("ssh2vsock:")).length, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /\u001b/);
      });
    }
  }

  test("known-hosts 'web1' is found by ssh-keygen -F web1 and not by ssh-keygen -F anything", async () => {
    const r = await runCli(["known-hosts", "web1", pub]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir, "kh_web1");
    writeFileSync(file, r.stdout);
    assert.equal((await runCommand("ssh-keygen", ["-F", "web1", "-f", file])).code, 0);
    assert.notEqual((await runCommand("ssh-keygen", ["-F", "anything", "-f", file])).code, 0);
  });

  test("known-hosts accepts [host]:port, an IP literal and a target spelling", async () => {
    for (const [host, written] of [["[web1]:2222", "[web1]:2222"], ["2001:db8::7", "2001:db8::7"], ["vsock/3", "vsock/3"]]) {
      const r = await runCli(["known-hosts", host!, pub]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split(" ")[0], written);
    }
  });
});

describe("stdin and file errors", () => {
  test("- reads the keys from stdin, for known-hosts and sshfp", async () => {
    const text = readFileSync(pub, "utf8");
    const fromFile = await runCli(["known-hosts", "web1", pub]);
    const fromStdin = await runCli(["known-hosts", "web1", "-"], { input: text });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal(fromStdin.stdout, fromFile.stdout);
    const sshfp = await runCli(["sshfp", "web1.example.com", "-"], { input: text });
    assert.equal(sshfp.code, 0, sshfp.stderr);
    assert.match(sshfp.stdout, /^web1\.example\.com IN SSHFP 4 2 [0-9a-f]{64}\n$/);
  });

  test("a missing file is named in words, not as ENOENT", async () => {
    const r = await runCli(["known-hosts", "web1", join(dir, "nonexist.pub")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read .*nonexist\.pub: no such file or directory/);
    assert.doesNotMatch(r.stderr, /ENOENT|EACCES|EISDIR/);
  });

  test("a directory is named in words too", async () => {
    const r = await runCli(["sshfp", "web1", dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read .*: is a directory/);
    assert.doesNotMatch(r.stderr, /EISDIR/);
  });

  test("an unreadable file says permission denied (as a user without the right to read it)", async () => {
    const locked = join(dir, "locked.pub");
    writeFileSync(locked, readFileSync(pub));
    chmodSync(locked, 0o000);
    chmodSync(dir, 0o755);
    const r = await runCli(["known-hosts", "web1", locked], { wrap: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot read .*locked\.pub: permission denied/);
    assert.doesNotMatch(r.stderr, /EACCES/);
  });
});

describe("known-hosts --json", () => {
  test("prints one array of {host, type, key, fingerprint, line}, each line what the text output prints", async () => {
    const text = await runCli(["known-hosts", "--port", "2222", "web1", pub]);
    const r = await runCli(["known-hosts", "--json", "--port", "2222", "web1", pub]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Array<Record<string, string>>;
    assert.ok(Array.isArray(doc));
    assert.equal(doc.length, 1);
    const [key] = readFileSync(pub, "utf8").split(" ").slice(1, 2);
    assert.deepEqual(Object.keys(doc[0]!).sort(), ["fingerprint", "host", "key", "line", "type"]);
    assert.deepEqual(doc[0], { host: "[web1]:2222", type: "ssh-ed25519", key, fingerprint: fingerprint(pub), line: text.stdout.trim() });
  });

  test("with --hash the host field is the hashed name that the line carries", async () => {
    const r = await runCli(["known-hosts", "--json", "--hash", "web1", pub]);
    const [entry] = JSON.parse(r.stdout) as Array<Record<string, string>>;
    assert.match(entry!.host!, /^\|1\|/);
    assert.ok(entry!.line!.startsWith(`${entry!.host} ssh-ed25519 `));
  });
});

describe("known-hosts --cert-authority PATTERN CA.pub", () => {
  test("prints the @cert-authority line, which ssh-keygen -F finds for a host the pattern names", async () => {
    const r = await runCli(["known-hosts", "--cert-authority", "*.example.com,!bad.example.com", ca]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^@cert-authority \*\.example\.com,!bad\.example\.com ssh-ed25519 \S+\n$/);
    const file = join(dir, "kh_ca");
    writeFileSync(file, r.stdout);
    assert.match((await runCommand("ssh-keygen", ["-F", "web1.example.com", "-f", file])).stdout, /@cert-authority/);
    assert.notEqual((await runCommand("ssh-keygen", ["-F", "bad.example.com", "-f", file])).code, 0);
  });

  test("refuses --hash, saying that patterns cannot be hashed", async () => {
    const r = await runCli(["known-hosts", "--cert-authority", "--hash", "*.example.com", ca]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /--hash does not apply to --cert-authority: .*pattern/);
  });

  for (const pattern of ["*.example.com\n@revoked *", "a b", "a\tb"]) {
    test(`refuses the pattern ${JSON.stringify(pattern)} (whitespace, control characters)`, async () => {
      const r = await runCli(["known-hosts", "--cert-authority", pattern, ca]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
    });
  }

  test("--json marks the entry as a certificate authority", async () => {
    const r = await runCli(["known-hosts", "--json", "--cert-authority", "*.example.com", ca]);
    assert.equal(r.code, 0, r.stderr);
    const [entry] = JSON.parse(r.stdout) as Array<Record<string, string>>;
    assert.equal(entry!.host, "*.example.com");
    assert.equal(entry!.marker, "cert-authority");
    assert.equal(entry!.fingerprint, fingerprint(ca));
  });
});

describe("keyscan with the lab", () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ guests: 1 });
  });
  after(async () => {
    await lab?.stop();
  });

  test("--json prints an array of {host, type, key, fingerprint, line}, one per host key, as the text lines", async () => {
    const text = await runCli(["keyscan", "-c", lab.configFile, "g1"]);
    assert.equal(text.code, 0, text.stderr);
    const r = await runCli(["keyscan", "-c", lab.configFile, "--json", "g1"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Array<Record<string, string>>;
    assert.deepEqual(doc.map((e) => e.line), text.stdout.trim().split("\n"));
    const files = Object.values(lab.guests[0]!.hostKeyPubFiles);
    assert.deepEqual(doc.map((e) => e.fingerprint).sort(), files.map(fingerprint).sort());
    for (const e of doc) {
      assert.deepEqual(Object.keys(e).sort(), ["fingerprint", "host", "key", "line", "type"]);
      assert.equal(e.host, "g1.lab.test");
      assert.equal(e.line, `${e.host} ${e.type} ${e.key}`);
    }
  });

  test("an ad-hoc target whose name cannot be a known_hosts host is refused with exit 2", async () => {
    const r = await runCli(["keyscan", "-c", lab.configFile, "unix/tmp/a*b"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
  });
});
