// Turns a DNSSEC-validated SSHFP answer into trusted fingerprints: SHA-256 only, for RSA,
// ECDSA and Ed25519; every other record is skipped with a warning, never fatal on its own.

import { HostKeyError } from "../errors.ts";
import type { TrustedFingerprint } from "../hostkeys/types.ts";
import type { ResolverAddress } from "./resolver-address.ts";
import { querySshfp, type SshfpQueryOptions } from "./query.ts";
import type { SshfpRdata } from "./sshfp-rdata.ts";

export { decodeSshfpRdata, type SshfpRdata } from "./sshfp-rdata.ts";

const ALGORITHMS: Record<number, string> = { 1: "RSA", 2: "DSA", 3: "ECDSA", 4: "Ed25519", 6: "Ed448" };
const USABLE_ALGORITHMS = new Set([1, 3, 4]);
const SHA256 = 2;

/** Usable fingerprints plus what was skipped and why. */
export interface SshfpTrust {
  fingerprints: TrustedFingerprint[];
  warnings: string[];
}

/**
 * Looks up `name`'s SSHFP records through `resolver` and keeps those ssh2vsock trusts.
 * Throws HostKeyError when the lookup fails or leaves no usable fingerprint.
 * @example await sshfpTrust("web1.example.com", "127.0.0.1:53") // { fingerprints: [{ algorithm: 4, sha256, source: "SSHFP web1.example.com via 127.0.0.1:53 (DNSSEC)" }], warnings: [] }
 */
export async function sshfpTrust(
  name: string,
  resolver: string | ResolverAddress,
  opts: SshfpQueryOptions = {},
): Promise<SshfpTrust> {
  const answer = await querySshfp(name, resolver, opts);
  const source = `SSHFP ${answer.name} via ${answer.resolver}${answer.tls ? " over TLS" : ""} (DNSSEC)`;
  const filtered = filterSshfp(answer.records, source);
  const warnings = [...answer.warnings, ...filtered.warnings];
  if (filtered.fingerprints.length > 0) return { fingerprints: filtered.fingerprints, warnings };

  const hint = `publish SHA-256 records (\`ssh2vsock sshfp ${answer.name} KEY.pub\` or \`ssh-keygen -r\`) in a DNSSEC-signed zone, or trust the key through known_hosts`;
  if (answer.records.length === 0) {
    throw new HostKeyError("sshfp-none", `no SSHFP records for ${answer.name} (${source})`, { hint });
  }
  if (answer.records.every((r) => r.fingerprintType === 1)) {
    throw new HostKeyError(
      "sshfp-unusable",
      `SSHFP for ${answer.name} has only SHA-1 fingerprints; ssh2vsock trusts SHA-256 (type 2) only`,
      { hint },
    );
  }
  throw new HostKeyError(
    "sshfp-unusable",
    `SSHFP for ${answer.name} has no usable record (${warnings.length} skipped: ${warnings.join("; ")})`,
    { hint },
  );
}

/**
 * Keeps SHA-256 fingerprints of RSA, ECDSA and Ed25519 keys; says why each other record was skipped.
 * @example filterSshfp([{ algorithm: 4, fingerprintType: 1, fingerprint }], src).warnings // ["… SHA-1 …"]
 */
export function filterSshfp(records: SshfpRdata[], source: string): SshfpTrust {
  const fingerprints: TrustedFingerprint[] = [];
  const warnings: string[] = [];
  for (const r of records) {
    const alg = ALGORITHMS[r.algorithm] ?? "unknown";
    const what = `record ${r.algorithm} ${r.fingerprintType} (${alg})`;
    if (r.fingerprintType === 1) {
      warnings.push(`${source}: ignored ${what}: SHA-1 fingerprints are not trusted, only SHA-256 (type 2)`);
    } else if (r.fingerprintType !== SHA256) {
      warnings.push(`${source}: ignored ${what}: unknown fingerprint type ${r.fingerprintType}`);
    } else if (!USABLE_ALGORITHMS.has(r.algorithm)) {
      const why = r.algorithm === 2 ? "DSA keys are never accepted" : `algorithm ${r.algorithm} is not supported`;
      warnings.push(`${source}: ignored ${what}: ${why}`);
    } else if (r.fingerprint.length !== 32) {
      warnings.push(`${source}: ignored ${what}: a SHA-256 fingerprint has 32 bytes, not ${r.fingerprint.length}`);
    } else {
      fingerprints.push({ algorithm: r.algorithm, sha256: r.fingerprint, source });
    }
  }
  return { fingerprints, warnings };
}
