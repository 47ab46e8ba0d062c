// Shapes shared by every source of host key trust (known_hosts entries, files, SSHFP) and by
// the one function that combines them into a verdict (CONVENTIONS.md rule 4).

/** A public host key as the SSH wire format carries it. */
export interface PublicKey {
  /** Key type from the blob: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, `ssh-dss`, … */
  type: string;
  /** The full public key blob (what SHA-256 fingerprints and SSHFP records hash). */
  blob: Buffer;
}

/** A key trusted (or revoked) for this host, with where that statement came from. */
export interface SourcedKey {
  key: PublicKey;
  /** Human-readable origin: `/home/u/.ssh/known_hosts:12`, `guests.web1.known_hosts[0]`. */
  source: string;
}

/** A DNSSEC-validated SSHFP fingerprint (type 2, SHA-256 only) for this host. */
export interface TrustedFingerprint {
  /** SSHFP algorithm number: 1 RSA, 3 ECDSA, 4 Ed25519 (others are dropped before here). */
  algorithm: number;
  /** SHA-256 over the public key blob. */
  sha256: Buffer;
  /** `SSHFP web1.example.com via 127.0.0.1:53 (DNSSEC)` */
  source: string;
}

/** Everything that says which keys a host may present; sources add up. */
export interface TrustAnchors {
  keys: SourcedKey[];
  revoked: SourcedKey[];
  fingerprints: TrustedFingerprint[];
  /**
   * `@cert-authority` keys that matched this host: they trust host certificates, which only the
   * handshake inspector can see (ssh2's own sessions cannot negotiate them).
   */
  certAuthorities: SourcedKey[];
  /** Non-fatal diagnostics (malformed lines, ignored SSHFP records) naming their source. */
  warnings: string[];
}

/** The answer to "may this host present this key?" */
export type HostKeyVerdict =
  | { kind: "trusted"; source: string; /** describeCertificate() of a trusted host certificate */ certificate?: string }
  | { kind: "revoked"; presented: string; expected: string[]; source: string }
  | { kind: "changed"; presented: string; expected: string[] }
  | { kind: "unknown"; presented: string; expected: string[] }
  | {
      kind: "certificate-refused";
      presented: string;
      expected: string[];
      /** Which check failed (CertificateFailure: "expired", "principal", …). */
      failure: string;
      /** The sentence saying why, e.g. `expired (valid until 2026-12-01T10:00:00Z)`. */
      reason: string;
      /** describeCertificate() when the certificate could be read. */
      certificate?: string;
    };

export const emptyAnchors = (): TrustAnchors => ({
  keys: [],
  revoked: [],
  fingerprints: [],
  certAuthorities: [],
  warnings: [],
});
