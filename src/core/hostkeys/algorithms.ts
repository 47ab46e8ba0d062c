// Host key algorithms to offer in key exchange: only those for which a trusted key exists,
// so a server cannot steer us to a key we could not verify (and never SHA-1 ssh-rsa or DSA).
// Host certificate algorithms are a separate list: only the handshake inspector can check them.

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
  if (offeredByServer.some((name) => name.endsWith(CERT))) {
    return `${base}; the server offers host certificates, which only splice tunnels and proxy can check (a @cert-authority line): add the host's plain key for this hop`;
  }
  return `${base}; none of the server's algorithms is supported (DSA never is)`;
}

const CERT = "-cert-v01@openssh.com";
/** Certificate algorithms per certified key type, in preference order (never ssh-rsa-cert: SHA-1). */
const CERT_ALGORITHMS: Record<string, string[]> = {
  "ssh-ed25519": [`ssh-ed25519${CERT}`],
  ...Object.fromEntries(ECDSA.map((name) => [name, [`${name}${CERT}`]])),
  "ssh-rsa": RSA.map((name) => `${name}${CERT}`),
};

/**
 * Host certificate algorithms the handshake inspector may accept: every one when a
 * `@cert-authority` key matched the host (the CA vouches for any key type; a revoked CA is
 * still offered so that the refusal can say it is revoked), and otherwise those certifying a
 * plainly trusted key type (OpenSSH checks a certificate whose CA is unknown as its plain key).
 * @example certificateAlgorithmsFor(anchors) // ["ssh-ed25519-cert-v01@openssh.com", …]
 */
export function certificateAlgorithmsFor(anchors: TrustAnchors): string[] {
  if (anchors.certAuthorities.length > 0) return Object.values(CERT_ALGORITHMS).flat();
  const plain = new Set(hostKeyAlgorithmsFor(anchors).map(keyTypeOfAlgorithm));
  return Object.entries(CERT_ALGORITHMS).flatMap(([type, names]) => (plain.has(type) ? names : []));
}

/**
 * The key type a host key algorithm's K_S blob carries: rsa-sha2-* sign with an ssh-rsa key,
 * rsa-sha2-*-cert-v01 with an ssh-rsa certificate; every other algorithm names its key type.
 * @example keyTypeOfAlgorithm("rsa-sha2-512-cert-v01@openssh.com") // "ssh-rsa-cert-v01@openssh.com"
 */
export function keyTypeOfAlgorithm(algorithm: string): string {
  if (RSA.includes(algorithm)) return "ssh-rsa";
  if (RSA.some((name) => algorithm === `${name}${CERT}`)) return `ssh-rsa${CERT}`;
  return algorithm;
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
