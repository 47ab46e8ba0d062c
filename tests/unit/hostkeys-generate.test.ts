// known_hosts and SSHFP generators, checked against OpenSSH: `ssh-keygen -F` must find the
// lines we write, and our SSHFP lines must equal `ssh-keygen -r`'s SHA-256 lines.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  anchorsFromKnownHosts,
  hashHostName,
  knownHostsLine,
  parseKnownHosts,
  sshfpAlgorithmOf,
  sshfpRecordsFor,
  sshfpZoneLine,
  verifyHostKey,
} from "../../src/core/hostkeys/index.ts";
import { certAuthorityLine } from "../../src/core/hostkeys/known-hosts-line.ts";
import { UsageError } from "../../src/core/errors.ts";
import { generateTestKeys, keyPart, sshKeygen, writeFile } from "./hostkeys-fixtures.ts";

const keys = generateTestKeys();
after(() => keys.cleanup());

describe("knownHostsLine", () => {
  test("writes host type base64 and an optional comment, with [host]:port off port 22", () => {
    assert.equal(knownHostsLine(keys.ed25519.key, "Web1.example.com"), `web1.example.com ${keyPart(keys.ed25519)}`);
    assert.equal(knownHostsLine(keys.ed25519.key, "web1", { port: 2222, comment: "from keyscan" }), `[web1]:2222 ${keyPart(keys.ed25519)} from keyscan`);
  });

  test("hashes with a fresh salt each time, in |1|salt|hmac form", () => {
    const a = hashHostName("web1.example.com");
    assert.match(a, /^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}=$/);
    assert.notEqual(a, hashHostName("web1.example.com"));
    const salt = Buffer.alloc(20, 7);
    assert.equal(hashHostName("WEB1.example.com", salt), hashHostName("web1.example.com", salt));
  });

  for (const [name, port, query] of [["bare", 22, "web1.example.com"], ["[host]:2222", 2222, "[web1.example.com]:2222"]] as const) {
    test(`hashed lines are found by ssh-keygen -F (${name}) and only for that name`, () => {
      const lines = [keys.ed25519, keys.ecdsa384, keys.rsa].map((k) => knownHostsLine(k.key, "web1.example.com", { port, hash: true }));
      const path = writeFile(keys.dir, `generated_${port}`, `${knownHostsLine(keys.ed25519b.key, "other.example.com", { hash: true })}\n${lines.join("\n")}\n`);
      const found = sshKeygen(["-F", query, "-f", path]);
      assert.ok(found, `ssh-keygen -F ${query} found nothing`);
      const foundLines = found.split("\n").filter((line) => line && !line.startsWith("#"));
      assert.deepEqual(foundLines, lines);
      assert.equal(sshKeygen(["-F", port === 22 ? "[web1.example.com]:2222" : "web1.example.com", "-f", path]), undefined);
      const parsed = parseKnownHosts(lines.join("\n"), path);
      const verdict = verifyHostKey(anchorsFromKnownHosts(parsed, "web1.example.com", port), keys.rsa.key);
      assert.equal(verdict.kind, "trusted");
    });
  }
});

describe("knownHostsLine refuses anything but one host", () => {
  // Each of these, written as it is, would make a line that names other hosts or adds lines.
  const hostile = ["web1,*", "*", "web?", "!web1", "web1\n@revoked * ssh-ed25519 AAAA", "web1 x", "web1\r", "|1|abc|def", "@cert-authority", ""];
  for (const host of hostile) {
    test(`refuses ${JSON.stringify(host)} with a UsageError and writes nothing`, () => {
      assert.throws(() => knownHostsLine(keys.ed25519.key, host), (e: unknown) => e instanceof UsageError && e.exitCode === 2);
      assert.throws(() => knownHostsLine(keys.ed25519.key, host, { hash: true }), UsageError);
    });
  }

  test("a line for web1 is found by ssh-keygen -F web1 and by no other name", () => {
    const path = writeFile(keys.dir, "single", `${knownHostsLine(keys.ed25519.key, "web1")}\n`);
    assert.ok(sshKeygen(["-F", "web1", "-f", path]));
    assert.equal(sshKeygen(["-F", "anything", "-f", path]), undefined);
  });

  test("accepts IP literals, [host]:port and ssh2vsock's target spellings as names", () => {
    assert.equal(knownHostsLine(keys.ed25519.key, "2001:db8::7", { port: 2222 }), `[2001:db8::7]:2222 ${keyPart(keys.ed25519)}`);
    assert.equal(knownHostsLine(keys.ed25519.key, "[Web1]:2222"), `[web1]:2222 ${keyPart(keys.ed25519)}`);
    assert.equal(knownHostsLine(keys.ed25519.key, "[web1]:22"), `web1 ${keyPart(keys.ed25519)}`);
    assert.equal(knownHostsLine(keys.ed25519.key, "vsock/3"), `vsock/3 ${keyPart(keys.ed25519)}`);
  });

  test("refuses [host]:port together with another port", () => {
    assert.throws(() => knownHostsLine(keys.ed25519.key, "[web1]:2222", { port: 2200 }), UsageError);
  });
});

describe("certAuthorityLine", () => {
  test("writes @cert-authority PATTERN KEY, which ssh-keygen -F finds for a host the pattern names", () => {
    const line = certAuthorityLine(keys.ed25519.key, "*.example.com,!bad.example.com");
    assert.equal(line, `@cert-authority *.example.com,!bad.example.com ${keyPart(keys.ed25519)}`);
    const path = writeFile(keys.dir, "ca", `${line}\n`);
    assert.match(sshKeygen(["-F", "web1.example.com", "-f", path]) ?? "", /@cert-authority/);
    assert.equal(sshKeygen(["-F", "bad.example.com", "-f", path]), undefined);
    const [entry] = parseKnownHosts(line, path).entries;
    assert.equal(entry!.marker, "cert-authority");
  });

  for (const pattern of ["*.example.com\n@revoked *", "a b", "a\tb", "", "a,,b", "#x", "@revoked", "x\u001b[2J"]) {
    test(`refuses the pattern ${JSON.stringify(pattern)}`, () => {
      assert.throws(() => certAuthorityLine(keys.ed25519.key, pattern), (e: unknown) => e instanceof UsageError && !e.message.includes("\n"));
    });
  }
});

describe("SSHFP", () => {
  test("numbers algorithms as RFC 4255/6594/7479 do", () => {
    const table: [string, number | undefined][] = [
      ["ssh-rsa", 1], ["ssh-dss", 2], ["ecdsa-sha2-nistp256", 3], ["ecdsa-sha2-nistp384", 3],
      ["ecdsa-sha2-nistp521", 3], ["ssh-ed25519", 4], ["ssh-ed448", 6], ["sk-ssh-ed25519@openssh.com", undefined],
    ];
    for (const [type, algorithm] of table) assert.equal(sshfpAlgorithmOf(type), algorithm, type);
  });

  for (const name of ["ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa"] as const) {
    test(`the ${name} zone line equals ssh-keygen -r's SHA-256 line`, () => {
      const out = sshKeygen(["-r", "web1.example.com", "-f", keys[name].pub]);
      assert.ok(out, "ssh-keygen -r failed");
      const expected = out.split("\n").filter((line) => / SSHFP \d+ 2 /.test(line));
      const records = sshfpRecordsFor(keys[name].key);
      assert.deepEqual(records.map((r) => sshfpZoneLine("web1.example.com", r)), expected);
      assert.equal(records[0]!.fingerprint_type, 2);
      assert.match(records[0]!.fingerprint, /^[0-9a-f]{64}$/);
    });
  }

  test("gives no record for a key type SSHFP cannot name", () => {
    assert.deepEqual(sshfpRecordsFor({ type: "sk-ssh-ed25519@openssh.com", blob: Buffer.alloc(4) }), []);
  });
});
