// The one decision on a presented host key: revoked beats everything, then an exact key or
// SSHFP fingerprint match trusts it, a differing key of the same family means changed.
// A host certificate is decided by verifyHostCertificate against the @cert-authority keys.

import type { HostKeyVerdict, PublicKey, SourcedKey, TrustAnchors, TrustedFingerprint } from "./types.ts";
import { fingerprintSha256, sameKey } from "./keys.ts";
import { sshfpAlgorithmOf } from "./sshfp.ts";
import { isCertificateType } from "./certificate.ts";
import { verifyHostCertificate } from "./verify-certificate.ts";
import {
  familyOfKeyType,
  familyOfSshfpAlgorithm,
  sshfpAlgorithmLabel,
  TRUSTABLE_KEY_TYPES,
  TRUSTABLE_SSHFP_ALGORITHMS,
} from "./_family.ts";

/**
 * Decides whether the host may present `presented`, given everything the anchors say.
 * - revoked: the key is listed as `@revoked` (even if another line trusts it);
 * - trusted: its blob equals a trusted key, or its SHA-256 equals an SSHFP fingerprint of
 *   the matching algorithm (ssh-dss and unknown types are never trusted);
 * - changed: a different key or fingerprint of the same family (RSA, ECDSA, Ed25519) is known;
 * - unknown: otherwise.
 * `presented` in the verdict is the key's SHA-256 fingerprint; `expected` lists
 * "<fingerprint> (<type>) from <source>" for the known keys that were relevant.
 * A host certificate needs `context` (the name its principals must list, and the time); without
 * it a certificate is never trusted.
 * @example verifyHostKey(anchors, { type: "ssh-ed25519", blob }).kind // "trusted"
 */
export function verifyHostKey(anchors: TrustAnchors, presented: PublicKey, context?: CertificateContext): HostKeyVerdict {
  if (isCertificateType(presented.type)) {
    if (!context) return { kind: "unknown", presented: fingerprintSha256(presented.blob), expected: [] };
    return verifyHostCertificate(anchors, presented, context, verifyHostKey);
  }
  const fingerprint = fingerprintSha256(presented.blob);
  const revokedBy = anchors.revoked.find((entry) => sameKey(entry.key, presented));
  if (revokedBy) {
    return { kind: "revoked", presented: fingerprint, expected: [describeKey(revokedBy)], source: revokedBy.source };
  }

  const usableKeys = anchors.keys.filter((entry) => TRUSTABLE_KEY_TYPES.has(entry.key.type));
  const usablePrints = anchors.fingerprints.filter((entry) => TRUSTABLE_SSHFP_ALGORITHMS.has(entry.algorithm));
  if (TRUSTABLE_KEY_TYPES.has(presented.type)) {
    const byKey = usableKeys.find((entry) => sameKey(entry.key, presented));
    if (byKey) return { kind: "trusted", source: byKey.source };
    const algorithm = sshfpAlgorithmOf(presented.type);
    const digest = Buffer.from(fingerprint.slice("SHA256:".length), "base64");
    const byPrint = usablePrints.find((entry) => entry.algorithm === algorithm && entry.sha256.equals(digest));
    if (byPrint) return { kind: "trusted", source: byPrint.source };
  }

  const family = familyOfKeyType(presented.type);
  const sameFamily = [
    ...usableKeys.filter((entry) => familyOfKeyType(entry.key.type) === family).map(describeKey),
    ...usablePrints.filter((entry) => familyOfSshfpAlgorithm(entry.algorithm) === family).map(describeFingerprint),
  ];
  if (sameFamily.length > 0 && TRUSTABLE_KEY_TYPES.has(presented.type)) {
    return { kind: "changed", presented: fingerprint, expected: sameFamily };
  }
  return {
    kind: "unknown",
    presented: fingerprint,
    expected: [...usableKeys.map(describeKey), ...usablePrints.map(describeFingerprint)],
  };
}

/** What a host certificate is checked against: the host's name and the current time. */
export interface CertificateContext {
  hostname: string;
  now: Date;
}

function describeKey(entry: SourcedKey): string {
  return `${fingerprintSha256(entry.key.blob)} (${entry.key.type}) from ${entry.source}`;
}

function describeFingerprint(entry: TrustedFingerprint): string {
  const printable = entry.sha256.toString("base64").replace(/=+$/, "");
  return `SHA256:${printable} (${sshfpAlgorithmLabel(entry.algorithm)}) from ${entry.source}`;
}
