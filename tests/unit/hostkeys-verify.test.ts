// The host key verdict (revoked, trusted, changed, unknown) over known_hosts keys and SSHFP
// fingerprints, and the typed errors that report a refusal.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  anchorsFromKnownHosts,
  emptyAnchors,
  fingerprintSha256,
  hostKeyErrorFor,
  mergeAnchors,
  parseKnownHosts,
  verifyHostKey,
  type PublicKey,
  type TrustAnchors,
} from "../../src/core/hostkeys/index.ts";
import { ExitCode, HostKeyError } from "../../src/core/errors.ts";
import { generateTestKeys, keyPart, type TestKey } from "./hostkeys-fixtures.ts";

const keys = generateTestKeys();
after(() => keys.cleanup());

const fromLines = (...lines: string[]) => anchorsFromKnownHosts(parseKnownHosts(lines.join("\n"), "kh"), "h", 22);
const sshfp = (algorithm: number, key: TestKey, source = "SSHFP h via 127.0.0.1:53 (DNSSEC)"): TrustAnchors => ({
  ...emptyAnchors(),
  fingerprints: [{ algorithm, sha256: createHash("sha256").update(key.key.blob).digest(), source }],
});

// A syntactically valid DSA blob: DSA keys are never trusted, whatever known_hosts says.
function dsaKey(): PublicKey {
  const field = (data: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, data.length]), data]);
  const blob = Buffer.concat([field(Buffer.from("ssh-dss")), ...[1, 2, 3, 4].map((n) => field(Buffer.alloc(20, n)))]);
  return { type: "ssh-dss", blob };
}

describe("verifyHostKey", () => {
  const ED = keyPart(keys.ed25519);
  const cases: { name: string; anchors: () => TrustAnchors; presented: TestKey | PublicKey; kind: string; source?: string }[] = [
    { name: "trusts a key listed for the host", anchors: () => fromLines(`h ${ED}`), presented: keys.ed25519, kind: "trusted", source: "kh:1" },
    { name: "refuses a key marked @revoked even when another line trusts it", anchors: () => fromLines(`h ${ED}`, `@revoked * ${ED}`), presented: keys.ed25519, kind: "revoked", source: "kh:2" },
    { name: "calls a different key of the same type changed", anchors: () => fromLines(`h ${keyPart(keys.ed25519b)}`), presented: keys.ed25519, kind: "changed" },
    { name: "calls a different ECDSA curve changed (one family)", anchors: () => fromLines(`h ${keyPart(keys.ecdsa384)}`), presented: keys.ecdsa256, kind: "changed" },
    { name: "calls a key of another type unknown", anchors: () => fromLines(`h ${keyPart(keys.rsa)}`), presented: keys.ed25519, kind: "unknown" },
    { name: "calls a key with no entries at all unknown", anchors: () => fromLines(), presented: keys.ed25519, kind: "unknown" },
    { name: "trusts a key through the bare-host fallback on another port", anchors: () => anchorsFromKnownHosts(parseKnownHosts(`127.0.0.1 ${ED}`, "kh"), "127.0.0.1", 2222), presented: keys.ed25519, kind: "trusted", source: "kh:1" },
    { name: "does not trust a @cert-authority key as a host key", anchors: () => fromLines(`@cert-authority h ${ED}`), presented: keys.ed25519, kind: "unknown" },
    { name: "trusts an Ed25519 key by SSHFP algorithm 4", anchors: () => sshfp(4, keys.ed25519), presented: keys.ed25519, kind: "trusted", source: "SSHFP h via 127.0.0.1:53 (DNSSEC)" },
    { name: "trusts any ECDSA curve by SSHFP algorithm 3", anchors: () => sshfp(3, keys.ecdsa521), presented: keys.ecdsa521, kind: "trusted" },
    { name: "trusts an RSA key by SSHFP algorithm 1", anchors: () => sshfp(1, keys.rsa), presented: keys.rsa, kind: "trusted" },
    { name: "does not trust a matching digest under the wrong SSHFP algorithm", anchors: () => sshfp(1, keys.ed25519), presented: keys.ed25519, kind: "unknown" },
    { name: "calls a differing SSHFP fingerprint of the same algorithm changed", anchors: () => sshfp(4, keys.ed25519b), presented: keys.ed25519, kind: "changed" },
    { name: "lets @revoked beat an SSHFP match", anchors: () => mergeAnchors(sshfp(4, keys.ed25519), fromLines(`@revoked h ${ED}`)), presented: keys.ed25519, kind: "revoked" },
    { name: "never trusts ssh-dss, even when listed", anchors: () => ({ ...emptyAnchors(), keys: [{ key: dsaKey(), source: "kh:1" }] }), presented: dsaKey(), kind: "unknown" },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const presented = "key" in c.presented ? c.presented.key : c.presented;
      const verdict = verifyHostKey(c.anchors(), presented);
      assert.equal(verdict.kind, c.kind);
      if (c.source) assert.equal("source" in verdict ? verdict.source : undefined, c.source);
      if (verdict.kind !== "trusted") assert.equal(verdict.presented, fingerprintSha256(presented.blob));
    });
  }

  test("lists the expected keys with fingerprint, type and source", () => {
    const verdict = verifyHostKey(
      mergeAnchors(fromLines(`h ${keyPart(keys.ed25519b)}`, `h ${keyPart(keys.rsa)}`), sshfp(4, keys.ecdsa256, "SSHFP h")),
      keys.ed25519.key,
    );
    assert.equal(verdict.kind, "changed");
    assert.deepEqual(verdict.kind === "changed" && verdict.expected, [
      `${fingerprintSha256(keys.ed25519b.key.blob)} (ssh-ed25519) from kh:1`,
      `${fingerprintSha256(keys.ecdsa256.key.blob)} (ssh-ed25519) from SSHFP h`,
    ]);
  });
});

describe("hostKeyErrorFor", () => {
  const fp = fingerprintSha256(keys.ed25519.key.blob);
  const cases = [
    { kind: "unknown", anchors: () => fromLines(), code: "hostkey-unknown", message: `host key for web1.example.com (ssh-ed25519 ${fp}) is not trusted`, hint: /ssh2vsock keyscan/ },
    { kind: "changed", anchors: () => fromLines(`h ${keyPart(keys.ed25519b)}`), code: "hostkey-changed", message: `host key for web1.example.com (ssh-ed25519 ${fp}) has CHANGED: expected SHA256:`, hint: /ssh-keygen -R.*|attack|intercept/ },
    { kind: "revoked", anchors: () => fromLines(`@revoked h ${keyPart(keys.ed25519)}`), code: "hostkey-revoked", message: `host key for web1.example.com (ssh-ed25519 ${fp}) is REVOKED by kh:1`, hint: /revoked/ },
  ];
  for (const c of cases) {
    test(`reports a ${c.kind} key as a one-line HostKeyError (exit 3) with a hint`, () => {
      const verdict = verifyHostKey(c.anchors(), keys.ed25519.key);
      assert.equal(verdict.kind, c.kind);
      if (verdict.kind === "trusted") return;
      const error = hostKeyErrorFor(verdict, "web1.example.com", "ssh-ed25519");
      assert.ok(error instanceof HostKeyError);
      assert.equal(error.exitCode, ExitCode.hostKey);
      assert.equal(error.code, c.code);
      assert.ok(error.message.startsWith(c.message), error.message);
      assert.ok(!error.message.includes("\n"));
      assert.match(error.hint ?? "", c.hint);
      assert.equal(error.presented, fp);
      assert.deepEqual(error.expected, verdict.expected);
    });
  }

  test("says a changed key can mean an attack and how to remove the old entry", () => {
    const verdict = verifyHostKey(fromLines(`h ${keyPart(keys.ed25519b)}`), keys.ed25519.key);
    assert.equal(verdict.kind, "changed");
    if (verdict.kind !== "changed") return;
    const hint = hostKeyErrorFor(verdict, "h").hint ?? "";
    assert.match(hint, /man in the middle/);
    assert.match(hint, /ssh-keygen -R/);
  });
});
