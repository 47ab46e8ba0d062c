// SSHFP records (RFC 4255, RFC 6594, RFC 7479) for public keys: the algorithm numbers and the
// zone-file lines `ssh-keygen -r` prints. Pure: keys in, records and text out.

import { createHash } from "node:crypto";
import type { PublicKey } from "./types.ts";

/** One SSHFP record; ssh2vsock only ever produces SHA-256 (fingerprint type 2). */
export interface SshfpRecord {
  algorithm: number;
  fingerprint_type: 2;
  /** Lower-case hex of SHA-256 over the key blob. */
  fingerprint: string;
}

/**
 * The SSHFP algorithm number for a key type, or undefined when SSHFP has none.
 * @example sshfpAlgorithmOf("ecdsa-sha2-nistp384") // 3
 */
export function sshfpAlgorithmOf(keyType: string): number | undefined {
  if (keyType === "ssh-rsa") return 1;
  if (keyType === "ssh-dss") return 2;
  if (/^ecdsa-sha2-nistp(256|384|521)$/.test(keyType)) return 3;
  if (keyType === "ssh-ed25519") return 4;
  if (keyType === "ssh-ed448") return 6;
  return undefined;
}

/**
 * The SHA-256 SSHFP record for a key (empty when the key type has no SSHFP algorithm).
 * @example sshfpRecordsFor(ed25519Key) // [{ algorithm: 4, fingerprint_type: 2, fingerprint: "64b0…" }]
 */
export function sshfpRecordsFor(key: PublicKey): SshfpRecord[] {
  const algorithm = sshfpAlgorithmOf(key.type);
  if (algorithm === undefined) return [];
  const fingerprint = createHash("sha256").update(key.blob).digest("hex");
  return [{ algorithm, fingerprint_type: 2, fingerprint }];
}

/**
 * A zone-file line in the exact form `ssh-keygen -r HOST -f KEY.pub` prints.
 * @example sshfpZoneLine("web1.example.com", record) // "web1.example.com IN SSHFP 4 2 64b0…"
 */
export function sshfpZoneLine(host: string, record: SshfpRecord): string {
  return `${host} IN SSHFP ${record.algorithm} ${record.fingerprint_type} ${record.fingerprint}`;
}
