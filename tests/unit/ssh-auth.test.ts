// Which credentials a hop offers: exactly the configured mechanism, or for built-in defaults
// the key and the agent, skipping an unusable default key; errors never carry secrets.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { authOptions } from "../../src/core/ssh/auth.ts";
import { AuthError } from "../../src/core/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "s2v-auth-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const plain = join(dir, "plain");
const encrypted = join(dir, "encrypted");
execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", plain]);
execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "correct horse", "-f", encrypted]);
const read = (p: string) => readFileSync(p);
const base = { useAgent: false, origin: "guests.g1" };

describe("authOptions", () => {
  test("a configured key is offered alone", () => {
    const o = authOptions({ ...base, privateKeyFile: plain }, read, "guest g1", "root");
    assert.deepEqual(o.authHandler, ["publickey"]);
    assert.ok(o.privateKey);
  });

  test("an encrypted key opens with its passphrase, and a wrong one is an AuthError without the secret", () => {
    assert.ok(authOptions({ ...base, privateKeyFile: encrypted, passphrase: "correct horse" }, read, "guest g1", "root").privateKey);
    assert.throws(
      () => authOptions({ ...base, privateKeyFile: encrypted, passphrase: "wrong battery" }, read, "guest g1", "root"),
      (e: unknown) => e instanceof AuthError && /passphrase/.test(e.hint ?? "") && !e.message.includes("wrong battery"),
    );
  });

  test("a missing key file is an AuthError naming the file", () => {
    assert.throws(() => authOptions({ ...base, privateKeyFile: join(dir, "none") }, read, "guest g1", "root"), /cannot read private key .*none: no such file or directory/);
  });

  test("a password is offered as password and keyboard-interactive", () => {
    assert.deepEqual(authOptions({ ...base, password: "pw" }, read, "guest g1", "root").authHandler, ["password", "keyboard-interactive"]);
  });

  test("the agent needs a socket", () => {
    assert.deepEqual(authOptions({ ...base, useAgent: true, agentSock: "/run/agent" }, read, "guest g1", "root").authHandler, ["agent"]);
    assert.throws(() => authOptions({ ...base, useAgent: true }, read, "guest g1", "root"), /no agent socket/);
  });

  test("built-in defaults offer the key then the agent, and skip a default key that cannot be used", () => {
    assert.deepEqual(authOptions({ ...base, useAgent: true, agentSock: "/a", privateKeyFile: plain }, read, "hv", "root").authHandler, ["publickey", "agent"]);
    assert.deepEqual(authOptions({ ...base, useAgent: true, agentSock: "/a", privateKeyFile: encrypted }, read, "hv", "root").authHandler, ["agent"]);
    assert.deepEqual(authOptions({ ...base, useAgent: true, privateKeyFile: plain }, read, "hv", "root").authHandler, ["publickey"]);
  });

  test("no mechanism at all is an AuthError with a hint", () => {
    assert.throws(() => authOptions(base, read, "guest g1", "root"), (e: unknown) => e instanceof AuthError && !!e.hint);
  });
});
