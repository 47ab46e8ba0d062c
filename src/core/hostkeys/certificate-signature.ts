// Checks the CA's signature over an OpenSSH certificate with node:crypto: ssh-ed25519, ECDSA
// P-256/384/521 (SHA-256/384/512) and RSA PKCS#1 v1.5 with SHA-256 or SHA-512, never SHA-1.
//
// SSH signature blobs differ from what node:crypto takes: ECDSA carries mpint r and mpint s
// (converted here to fixed-width r‖s, "ieee-p1363"), and an RSA signature may be shorter than
// the modulus (left-padded with zeros, as OpenSSH does).

import { constants, verify, type KeyObject } from "node:crypto";
import { WireReader } from "./_wire.ts";
import { keyObjectOf, readPositiveMpint, readPublicKeyBlob, type KeyFields } from "./_cert-keys.ts";
import type { SshCertificate } from "./certificate.ts";

export const BAD_SIGNATURE_REASON = "the CA signature does not verify";
export const SHA1_SIGNATURE_REASON = "signed with SHA-1 (ssh-rsa), which is never accepted";

const RSA_HASHES: Record<string, "sha256" | "sha512"> = { "rsa-sha2-256": "sha256", "rsa-sha2-512": "sha512" };

/**
 * Verifies the CA signature over `cert.signedData` with `cert.signatureKey`. A signature
 * algorithm that does not suit the CA key, an invalid CA key or a mangled signature blob all
 * fail with a reason that starts "the CA signature does not verify".
 * @example verifyCertificateSignature(parseCertificate(blob)) // { ok: true }
 */
export function verifyCertificateSignature(cert: SshCertificate): { ok: true } | { ok: false; reason: string } {
  const algorithm = cert.signature.algorithm;
  if (algorithm === "ssh-rsa") return { ok: false, reason: SHA1_SIGNATURE_REASON };
  let ca: { type: string; fields: KeyFields };
  try {
    ca = readPublicKeyBlob(cert.signatureKey.blob);
  } catch (error) {
    return fail(`the CA key is unusable: ${(error as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = keyObjectOf(ca.fields);
  } catch {
    return fail(`the CA key is not a valid ${ca.type} key`);
  }
  try {
    return check(ca.fields, ca.type, key, algorithm, cert.signature.blob, cert.signedData);
  } catch {
    // node:crypto throws on some malformed inputs instead of returning false.
    return fail();
  }
}

function check(fields: KeyFields, caType: string, key: KeyObject, algorithm: string, sig: Buffer, data: Buffer) {
  const unsuitable = () => fail(`signature algorithm ${algorithm} does not suit a ${caType} CA key`);
  switch (fields.kind) {
    case "ed25519":
      if (algorithm !== "ssh-ed25519") return unsuitable();
      if (sig.length !== 64) return fail(`an Ed25519 signature must be 64 bytes, found ${sig.length}`);
      return result(verify(null, data, key, sig));
    case "ecdsa": {
      if (algorithm !== caType) return unsuitable();
      const { size, hash } = fields.curve;
      const reader = new WireReader(sig);
      let r: Buffer;
      let s: Buffer;
      try {
        r = readPositiveMpint(reader, "ECDSA r");
        s = readPositiveMpint(reader, "ECDSA s");
        if (!reader.done) throw new Error("trailing bytes after s");
      } catch (error) {
        return fail((error as Error).message);
      }
      if (r.length > size || s.length > size) return fail("ECDSA r or s is longer than the curve allows");
      const p1363 = Buffer.concat([leftPad(r, size), leftPad(s, size)]);
      return result(verify(hash, data, { key, dsaEncoding: "ieee-p1363" }, p1363));
    }
    case "rsa": {
      const hash = RSA_HASHES[algorithm];
      if (!hash) return unsuitable();
      const modulusBytes = fields.n.length;
      if (sig.length === 0 || sig.length > modulusBytes) return fail("the RSA signature has the wrong length");
      return result(verify(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, leftPad(sig, modulusBytes)));
    }
  }
}

function result(verified: boolean): { ok: true } | { ok: false; reason: string } {
  return verified ? { ok: true } : fail();
}

function fail(detail?: string): { ok: false; reason: string } {
  return { ok: false, reason: detail ? `${BAD_SIGNATURE_REASON} (${detail})` : BAD_SIGNATURE_REASON };
}

function leftPad(value: Buffer, size: number): Buffer {
  return value.length === size ? value : Buffer.concat([Buffer.alloc(size - value.length), value]);
}
