// Host key algorithms to offer in key exchange: only those for which a trusted key exists,
// so a server cannot steer us to a key we could not verify (and never SHA-1 ssh-rsa or DSA).

import type { TrustAnchors } from "./types.ts";
import { sameKey } from "./keys.ts";

const ECDSA = ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"];
const RSA = ["rsa-sha2-512", "rsa-sha2-256"];

/** Every algorithm ssh2vsock will ever offer, in preference order (used when a key is ignored). */
export const ALL_SAFE_HOST_KEY_ALGORITHMS: readonly string[] = Object.freeze(["ssh-ed25519", ...ECDSA, ...RSA]);

/**
 * The host key algorithms to offer, in preference order, given the trusted keys and SSHFP
 * fingerprints: Ed25519; ECDSA per curve (all three for SSHFP algorithm 3); RSA keys as
 * rsa-sha2-512 and rsa-sha2-256. Revoked keys count for nothing.
 * @example hostKeyAlgorithmsFor(anchors) // ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"]
 */
export function hostKeyAlgorithmsFor(anchors: TrustAnchors): string[] {
  const wanted = new Set<string>();
  for (const { key } of anchors.keys) {
    if (anchors.revoked.some((revoked) => sameKey(revoked.key, key))) continue;
    for (const algorithm of algorithmsForKeyType(key.type)) wanted.add(algorithm);
  }
  for (const { algorithm } of anchors.fingerprints) {
    if (algorithm === 1) RSA.forEach((name) => wanted.add(name));
    if (algorithm === 3) ECDSA.forEach((name) => wanted.add(name));
    if (algorithm === 4) wanted.add("ssh-ed25519");
  }
  return ALL_SAFE_HOST_KEY_ALGORITHMS.filter((name) => wanted.has(name));
}

/**
 * Explains an empty overlap between the server's host key algorithms and ours, naming both
 * lists and the known_hosts key type that would fix it.
 * @example describeAlgorithmMismatch(["ssh-rsa", "rsa-sha2-512"], ["ssh-ed25519"])
 */
export function describeAlgorithmMismatch(offeredByServer: string[], ours: string[]): string {
  const theirs = offeredByServer.length > 0 ? offeredByServer.join(", ") : "(none)";
  const mine = ours.length > 0 ? ours.join(", ") : "(none: no trusted key)";
  const base = `the server offers host key algorithms ${theirs}; trusted keys allow only ${mine}`;
  const fixes = [...new Set(offeredByServer.flatMap(keyTypeForAlgorithm))];
  if (fixes.length > 0) return `${base}; a known_hosts entry of type ${fixes.join(" or ")} for this host would fix it`;
  if (offeredByServer.includes("ssh-rsa")) {
    return `${base}; the server signs RSA only with SHA-1 (ssh-rsa), which is refused: enable rsa-sha2-256/512 on the server`;
  }
  return `${base}; none of the server's algorithms is supported (DSA and host certificates never are)`;
}

function algorithmsForKeyType(type: string): string[] {
  if (type === "ssh-ed25519" || ECDSA.includes(type)) return [type];
  if (type === "ssh-rsa") return RSA;
  return [];
}

function keyTypeForAlgorithm(algorithm: string): string[] {
  if (algorithm === "ssh-ed25519" || ECDSA.includes(algorithm)) return [algorithm];
  if (RSA.includes(algorithm)) return ["ssh-rsa"];
  return [];
}
