// Strict readers for the public key fields that OpenSSH certificates carry (the certified key
// and the CA key), and the CA key as a node:crypto KeyObject. Private to src/core/hostkeys.

import { createPublicKey, type KeyObject } from "node:crypto";
import { WireReader } from "./_wire.ts";

/** What a certificate's ECDSA curve implies: JWK curve, scalar width in bytes and signature hash. */
export interface EcdsaCurve {
  name: "nistp256" | "nistp384" | "nistp521";
  jwk: "P-256" | "P-384" | "P-521";
  size: number;
  hash: "sha256" | "sha384" | "sha512";
}

export const ECDSA_CURVES: Record<string, EcdsaCurve> = {
  "ecdsa-sha2-nistp256": { name: "nistp256", jwk: "P-256", size: 32, hash: "sha256" },
  "ecdsa-sha2-nistp384": { name: "nistp384", jwk: "P-384", size: 48, hash: "sha384" },
  "ecdsa-sha2-nistp521": { name: "nistp521", jwk: "P-521", size: 66, hash: "sha512" },
};

/** The decoded fields of one supported public key. */
export type KeyFields =
  | { kind: "ed25519"; pk: Buffer }
  | { kind: "ecdsa"; curve: EcdsaCurve; point: Buffer }
  | { kind: "rsa"; e: Buffer; n: Buffer };

// OpenSSH refuses RSA keys below 1024 bits and bignums above 16384 bits; the same bounds keep
// a hostile certificate from asking for an absurd RSA operation.
const RSA_MIN_BITS = 1024;
const RSA_MAX_BITS = 16384;

/** True for the plain key types a certificate may certify or be signed by here. */
export function isSupportedKeyType(type: string): boolean {
  return type === "ssh-ed25519" || type === "ssh-rsa" || type in ECDSA_CURVES;
}

/**
 * Reads the fields of a `type` key (everything after its type name) from `reader`.
 * Throws a plain Error saying what is wrong.
 */
export function readKeyFields(reader: WireReader, type: string): KeyFields {
  if (type === "ssh-ed25519") {
    const pk = reader.bytes();
    if (pk.length !== 32) throw new Error(`an Ed25519 key must be 32 bytes, found ${pk.length}`);
    return { kind: "ed25519", pk };
  }
  const curve = ECDSA_CURVES[type];
  if (curve) {
    const name = reader.text();
    if (name !== curve.name) throw new Error(`curve ${name} does not match key type ${type}`);
    const point = reader.bytes();
    if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) {
      throw new Error(`the ECDSA point has the wrong size or form for ${curve.name}`);
    }
    return { kind: "ecdsa", curve, point };
  }
  if (type === "ssh-rsa") {
    const e = readPositiveMpint(reader, "RSA exponent");
    const n = readPositiveMpint(reader, "RSA modulus");
    const bits = bitLength(n);
    if (bits < RSA_MIN_BITS) throw new Error(`an RSA key of ${bits} bits is too short (at least ${RSA_MIN_BITS})`);
    if (bits > RSA_MAX_BITS) throw new Error(`an RSA key of ${bits} bits is too long (at most ${RSA_MAX_BITS})`);
    return { kind: "rsa", e, n };
  }
  throw new Error(`key type ${type} is not supported`);
}

/** Reads a whole plain public key blob strictly (no trailing bytes). Throws a plain Error. */
export function readPublicKeyBlob(blob: Buffer): { type: string; fields: KeyFields } {
  const reader = new WireReader(blob);
  const type = reader.text();
  if (!isSupportedKeyType(type)) throw new Error(`key type ${type} is not supported`);
  const fields = readKeyFields(reader, type);
  if (!reader.done) throw new Error(`the ${type} key has trailing bytes`);
  return { type, fields };
}

/** The key as node:crypto needs it; throws when the key is invalid (an ECDSA point off its curve). */
export function keyObjectOf(fields: KeyFields): KeyObject {
  const b64 = (data: Buffer) => data.toString("base64url");
  switch (fields.kind) {
    case "ed25519":
      return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64(fields.pk) }, format: "jwk" });
    case "ecdsa": {
      const { size, jwk } = fields.curve;
      const x = fields.point.subarray(1, 1 + size);
      const y = fields.point.subarray(1 + size);
      return createPublicKey({ key: { kty: "EC", crv: jwk, x: b64(x), y: b64(y) }, format: "jwk" });
    }
    case "rsa":
      return createPublicKey({ key: { kty: "RSA", n: b64(fields.n), e: b64(fields.e) }, format: "jwk" });
  }
}

/**
 * Reads an `mpint` (RFC 4251 §5) that must be positive and minimally encoded, and returns its
 * magnitude without the sign byte. Throws a plain Error naming `what`.
 */
export function readPositiveMpint(reader: WireReader, what: string): Buffer {
  const raw = reader.bytes();
  if (raw.length === 0) throw new Error(`the ${what} is zero`);
  if (raw[0]! & 0x80) throw new Error(`the ${what} is negative`);
  if (raw[0] === 0) {
    if (raw.length === 1 || !(raw[1]! & 0x80)) throw new Error(`the ${what} is not minimally encoded`);
    return raw.subarray(1);
  }
  return raw;
}

function bitLength(magnitude: Buffer): number {
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]!));
}
