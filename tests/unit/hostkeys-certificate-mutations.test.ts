// Damaged certificates: a property test that no single changed byte of a valid host
// certificate is ever trusted, and a seeded fuzz that every damaged blob gets a typed answer.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  checkHostCertificate,
  checkUserCertificate,
  describeCertificate,
  parseCertificate,
  verifyCertificateSignature,
  type CertificateFailure,
  type HostCertificateCheck,
  type SourcedKey,
} from "../../src/core/hostkeys/index.ts";
import { HostKeyError } from "../../src/core/errors.ts";
import { CertificateLab, sourced, type KeyKind } from "./_certificate-fixtures.ts";
import { assertTypedError, fuzz, FUZZ_SEED, hasControl, mutateBytesTimes, Rand } from "./_fuzz.ts";

const lab = new CertificateLab();
after(() => lab.cleanup());

const HOST = "web1.example.com";
const FAILURES: ReadonlySet<CertificateFailure> = new Set([
  "malformed", "no-authority", "bad-signature", "sha1-signature", "not-host", "not-user", "not-yet-valid",
  "expired", "no-principals", "principal", "critical-option", "revoked-ca", "revoked-key",
]);

// One certificate per CA family, each certifying a different key type.
const pairs: [ca: KeyKind, subject: KeyKind, algorithm?: string][] = [
  ["ed25519", "ed25519"],
  ["ecdsa384", "ed25519"],
  ["ecdsa521", "ecdsa256"],
  ["rsa", "rsa", "rsa-sha2-512"],
];
const certs = pairs.map(([caKind, subjectKind, algorithm], i) => {
  const ca = lab.key(caKind, `ca-${i}-${caKind}`);
  const subject = lab.key(subjectKind, `host-${i}-${subjectKind}`);
  const signed = lab.sign({ ca, subject, id: "web1", principals: [HOST, "*.web.example.com"], validity: "-1h:+1d", serial: 42, ...(algorithm ? { algorithm } : {}) });
  return { name: `${subjectKind} key certified by the ${caKind} CA`, blob: signed.blob, authority: sourced(ca.key, "known_hosts:1") };
});
const authorities: SourcedKey[] = certs.map((c) => c.authority);
const now = new Date();

function decide(blob: Buffer): HostCertificateCheck {
  return checkHostCertificate(blob, { hostname: HOST, now, authorities, revoked: [] });
}

/** Asserts a well-formed answer: a known failure, a one-line reason, a printable description. */
function assertTyped(result: HostCertificateCheck, context: string): void {
  if (result.ok) {
    assert.ok(result.cert && result.authority, context);
    return;
  }
  assert.ok(FAILURES.has(result.failure), `${context}: unknown failure ${result.failure}`);
  assert.ok(result.reason.length > 0 && !hasControl(result.reason), `${context}: reason ${JSON.stringify(result.reason)}`);
  if (result.cert) assert.ok(!hasControl(describeCertificate(result.cert)), `${context}: description has control characters`);
}

describe("a valid host certificate with any single byte changed", () => {
  for (const cert of certs) {
    test(`is never trusted: ${cert.name}, every position, four replacement values (seed ${FUZZ_SEED})`, () => {
      assert.equal(decide(cert.blob).ok, true, "the untouched certificate must be trusted");
      const rand = new Rand(FUZZ_SEED);
      const seen = new Map<string, number>();
      for (let i = 0; i < cert.blob.length; i++) {
        const original = cert.blob[i]!;
        const replacements = new Set([original ^ 0x01, original ^ 0x80, (original + 1 + rand.int(255)) % 256, rand.pick([0x00, 0xff, 0x7f, 0x80])]);
        replacements.delete(original);
        for (const value of replacements) {
          const changed = Buffer.from(cert.blob);
          changed[i] = value;
          const context = `${cert.name}: byte ${i} ${original} -> ${value}`;
          const result = decide(changed);
          assertTyped(result, context);
          assert.equal(result.ok, false, `${context} was trusted`);
          if (!result.ok) seen.set(result.failure, (seen.get(result.failure) ?? 0) + 1);
        }
      }
      // The changes land in every part of the certificate, so several checks must have fired.
      for (const failure of ["malformed", "no-authority", "bad-signature"] as const) {
        assert.ok((seen.get(failure) ?? 0) > 0, `no change was refused as ${failure}: ${JSON.stringify([...seen])}`);
      }
    });
  }
});

describe("damaged and random certificate blobs", () => {
  const pool = certs.map((c) => c.blob);

  test(`get a typed answer from every function, never an exception (seed ${FUZZ_SEED})`, async () => {
    await fuzz(
      "certificate blobs",
      { seed: FUZZ_SEED, count: 3000 },
      (rand, n) => {
        const base = pool[n % pool.length]!;
        switch (rand.int(4)) {
          case 0:
            return rand.bytes(rand.int(400));
          case 1:
            return base.subarray(0, rand.int(base.length));
          default:
            return mutateBytesTimes(rand, base, pool, 4);
        }
      },
      (blob, context) => {
        const result = decide(blob);
        assertTyped(result, context);
        if (result.ok) assert.ok(pool.some((p) => p.equals(blob)), `${context}: a changed certificate was trusted`);
        let cert;
        try {
          cert = parseCertificate(blob);
        } catch (error) {
          assertTypedError(error, context, [HostKeyError]);
          assert.equal(error.code, "malformed-certificate", context);
          assert.ok(!hasControl(error.message), `${context}: message has control characters`);
          return;
        }
        const signature = verifyCertificateSignature(cert);
        assert.ok(signature.ok || signature.reason.length > 0, context);
        for (const problem of checkUserCertificate(cert, cert.key, now)) assert.ok(!hasControl(problem), context);
      },
    );
  });
});
