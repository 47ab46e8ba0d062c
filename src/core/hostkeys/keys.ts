// Public host keys: reading them from OpenSSH text and wire blobs, checking the blob's inner
// structure, and the SHA-256 fingerprint exactly as `ssh-keygen -l` prints it.

import { createHash } from "node:crypto";
import { HostKeyError, UsageError } from "../errors.ts";
import type { PublicKey } from "./types.ts";
import { decodeBase64Strict, WireReader } from "./_wire.ts";

/** A public key read from text, with the comment that followed it (if any). */
export interface ParsedPublicKey extends PublicKey {
  comment?: string;
}

const ECDSA_POINT_LENGTH: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/**
 * Parses one OpenSSH public key line: `TYPE BASE64 [COMMENT]`.
 * Throws UsageError when the line is malformed or the blob does not carry the type it claims.
 * @example parsePublicKeyText("ssh-ed25519 AAAAC3Nz… me@host").type // "ssh-ed25519"
 */
export function parsePublicKeyText(text: string): ParsedPublicKey {
  const trimmed = text.trim();
  const match = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(trimmed);
  if (!match) {
    throw new UsageError(`malformed public key: expected "TYPE BASE64 [COMMENT]", found "${preview(trimmed)}"`, {
      hint: "give an OpenSSH public key line such as `ssh-ed25519 AAAA… comment` (a .pub file)",
    });
  }
  const [, type, base64, comment] = match;
  try {
    const key = decodePublicKey(type!, base64!);
    return comment ? { ...key, comment } : key;
  } catch (error) {
    throw new UsageError(`malformed ${type} public key: ${(error as Error).message}`, {
      hint: "give an OpenSSH public key line such as `ssh-ed25519 AAAA… comment` (a .pub file)",
    });
  }
}

/**
 * Decodes the base64 of a key written as `type base64` and checks the blob against the type.
 * Throws a plain Error whose message says what is wrong (callers wrap it with their location).
 */
export function decodePublicKey(textType: string, base64: string): PublicKey {
  const blob = decodeBase64Strict(base64);
  if (!blob) throw new Error("key data is not valid base64");
  const type = keyTypeOfBlob(blob);
  if (type !== textType) throw new Error(`key type ${textType} does not match the key data (${type})`);
  checkBlobStructure(type, blob);
  return { type, blob };
}

/**
 * Reads the key type name that starts every SSH public key blob. Throws HostKeyError (a server
 * presenting such a blob cannot be verified) when the blob does not start with one.
 * @example keyTypeOfBlob(key.blob) // "ecdsa-sha2-nistp256"
 */
export function keyTypeOfBlob(blob: Buffer): string {
  try {
    return new WireReader(blob).text();
  } catch (error) {
    throw new HostKeyError("malformed-host-key", `key data is not an SSH public key (${(error as Error).message})`);
  }
}

/**
 * The curve (`nistp256`, `nistp384`, `nistp521`) of an ECDSA key blob; undefined for other keys
 * or a blob whose curve field is unreadable.
 */
export function ecdsaCurveOf(blob: Buffer): string | undefined {
  try {
    const reader = new WireReader(blob);
    if (!reader.text().startsWith("ecdsa-sha2-")) return undefined;
    return reader.text();
  } catch {
    return undefined;
  }
}

/**
 * The SHA-256 fingerprint of a key blob, formatted like `ssh-keygen -l`.
 * @example fingerprintSha256(key.blob) // "SHA256:ZLCRELUcDrhsiJFjA/p1noMfqjE3NBLzJfqoP9YivV8"
 */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * The key as OpenSSH writes it, without a comment.
 * @example publicKeyText(key) // "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI…"
 */
export function publicKeyText(key: PublicKey): string {
  return `${key.type} ${key.blob.toString("base64")}`;
}

/** True when two keys are the same key (same blob). */
export function sameKey(a: PublicKey, b: PublicKey): boolean {
  return a.blob.equals(b.blob);
}

// Known key types must have exactly the fields their RFC defines; a line whose blob has been
// cut or padded is corrupt even if its base64 is fine. Unknown types are left to the caller.
function checkBlobStructure(type: string, blob: Buffer): void {
  const reader = new WireReader(blob);
  reader.text();
  if (type === "ssh-ed25519") {
    if (reader.bytes().length !== 32) throw new Error("Ed25519 public key is not 32 bytes");
  } else if (type.startsWith("ecdsa-sha2-") && !type.includes("@")) {
    const curve = reader.text();
    if (`ecdsa-sha2-${curve}` !== type) throw new Error(`curve ${curve} does not match key type ${type}`);
    const point = reader.bytes();
    const expected = ECDSA_POINT_LENGTH[curve];
    if (expected !== undefined && (point.length !== expected || point[0] !== 0x04)) {
      throw new Error(`ECDSA point has the wrong size for ${curve}`);
    }
  } else if (type === "ssh-rsa") {
    reader.bytes();
    if (reader.bytes().length === 0) throw new Error("RSA modulus is empty");
  } else if (type === "ssh-dss") {
    for (let i = 0; i < 4; i++) reader.bytes();
  } else {
    return;
  }
  if (!reader.done) throw new Error("key data has trailing bytes");
}

function preview(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
