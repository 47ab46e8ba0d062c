// Which keys count as "the same kind" (a different key of the same kind is a changed key) and
// which kinds may ever be trusted. Private to src/core/hostkeys.

/** Key types a host may be trusted with; DSA and anything unknown never are. */
export const TRUSTABLE_KEY_TYPES: ReadonlySet<string> = new Set([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
]);

/** SSHFP algorithms that can trust a key: 1 RSA, 3 ECDSA, 4 Ed25519. */
export const TRUSTABLE_SSHFP_ALGORITHMS: ReadonlySet<number> = new Set([1, 3, 4]);

// ECDSA curves form one family because an SSHFP record (algorithm 3) cannot tell them apart,
// and OpenSSH's own key comparison treats any ECDSA key as the same kind.
/** The family of a key type: `rsa`, `ecdsa`, `ed25519`, `dss`, or the type itself. */
export function familyOfKeyType(type: string): string {
  if (type === "ssh-rsa") return "rsa";
  if (type.startsWith("ecdsa-sha2-nistp") && !type.includes("@")) return "ecdsa";
  if (type === "ssh-ed25519") return "ed25519";
  if (type === "ssh-dss") return "dss";
  return type;
}

/** The family an SSHFP algorithm number stands for. */
export function familyOfSshfpAlgorithm(algorithm: number): string {
  switch (algorithm) {
    case 1: return "rsa";
    case 2: return "dss";
    case 3: return "ecdsa";
    case 4: return "ed25519";
    case 6: return "ssh-ed448";
    default: return `sshfp-${algorithm}`;
  }
}

/** How an SSHFP algorithm is named in messages. */
export function sshfpAlgorithmLabel(algorithm: number): string {
  switch (algorithm) {
    case 1: return "ssh-rsa";
    case 2: return "ssh-dss";
    case 3: return "ecdsa-sha2-nistp*";
    case 4: return "ssh-ed25519";
    case 6: return "ssh-ed448";
    default: return `SSHFP algorithm ${algorithm}`;
  }
}
