// Decides whether a presented host certificate is trusted for a host (CA, signature, kind,
// validity, principals, critical options, revocation), and what is wrong with a user certificate.
//
// Principals are matched as OpenSSH (10.3 and later) matches host certificate principals: each
// principal is a pattern (`*` any run, `?` one character) compared case-sensitively with the
// host name, which ssh lower-cases first. An empty principal list, which older OpenSSH accepted
// for any host, is refused. OpenSSH defines no critical option for host certificates, so any
// one is unknown and refuses the certificate.

import { HostKeyError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import type { PublicKey, SourcedKey } from "./types.ts";
import { fingerprintSha256 } from "./keys.ts";
import { wildcardMatch } from "./host-match.ts";
import { formatPrincipals, formatTime, parseCertificate, type SshCertificate } from "./certificate.ts";
import { SHA1_SIGNATURE_REASON, verifyCertificateSignature } from "./certificate-signature.ts";

/** Which check refused a host certificate. */
export type CertificateFailure =
  | "malformed"
  | "no-authority"
  | "bad-signature"
  | "sha1-signature"
  | "not-host"
  | "not-user"
  | "not-yet-valid"
  | "expired"
  | "no-principals"
  | "principal"
  | "critical-option"
  | "revoked-ca"
  | "revoked-key";

export type HostCertificateCheck =
  | { ok: true; cert: SshCertificate; authority: SourcedKey }
  | { ok: false; failure: CertificateFailure; reason: string; cert?: SshCertificate };

/** What a host certificate is checked against. */
export interface HostCertificateContext {
  /** The name the host is known by (what its principals must name). */
  hostname: string;
  now: Date;
  /** `@cert-authority` keys already pattern-matched for this host. */
  authorities: SourcedKey[];
  /** `@revoked` keys matched for this host. */
  revoked: SourcedKey[];
}

/**
 * Decides a presented host certificate blob. Checks, in order: it parses; its CA key is not
 * revoked; its certified key is not revoked; its CA is among `authorities`; the CA signature
 * verifies (never SHA-1); it is a host certificate; validAfter <= now < validBefore; its
 * principals name the host; it has no critical option.
 * @example checkHostCertificate(blob, { hostname: "web1.example.com", now: new Date(), authorities, revoked: [] })
 */
export function checkHostCertificate(blob: Buffer, ctx: HostCertificateContext): HostCertificateCheck {
  let cert: SshCertificate;
  try {
    cert = parseCertificate(blob);
  } catch (error) {
    const reason = error instanceof HostKeyError ? error.message : "malformed SSH certificate";
    return { ok: false, failure: "malformed", reason };
  }
  const refuse = (failure: CertificateFailure, reason: string): HostCertificateCheck => ({ ok: false, failure, reason, cert });

  const revokedCa = ctx.revoked.find((r) => r.key.blob.equals(cert.signatureKey.blob));
  if (revokedCa) {
    return refuse("revoked-ca", `its CA key ${fingerprintSha256(cert.signatureKey.blob)} is @revoked (${revokedCa.source})`);
  }
  const revokedKey = ctx.revoked.find((r) => r.key.blob.equals(cert.key.blob) || r.key.blob.equals(cert.blob));
  if (revokedKey) {
    return refuse("revoked-key", `its key ${fingerprintSha256(cert.key.blob)} is @revoked (${revokedKey.source})`);
  }
  const host = escapePeerText(ctx.hostname);
  const authority = ctx.authorities.find((a) => a.key.blob.equals(cert.signatureKey.blob));
  if (!authority) {
    return refuse(
      "no-authority",
      `signed by CA ${fingerprintSha256(cert.signatureKey.blob)} (${cert.signatureKey.type}), which no @cert-authority line trusts for ${host}`,
    );
  }
  if (cert.signature.algorithm === "ssh-rsa") return refuse("sha1-signature", SHA1_SIGNATURE_REASON);
  const signature = verifyCertificateSignature(cert);
  if (!signature.ok) return refuse("bad-signature", signature.reason);
  if (cert.kind !== "host") return refuse("not-host", "it is a user certificate, not a host certificate");
  const validity = validityProblem(cert, ctx.now);
  if (validity) return refuse(validity.failure, validity.reason);
  if (cert.principals.length === 0) {
    return refuse("no-principals", "it lists no principals (OpenSSH would accept it for any host; ssh2vsock refuses it)");
  }
  if (!principalsName(cert.principals, ctx.hostname)) {
    return refuse("principal", `its principals (${formatPrincipals(cert.principals)}) do not name ${host}`);
  }
  const option = cert.criticalOptions[0];
  if (option) {
    return refuse("critical-option", `it carries critical option ${escapePeerText(option.name)}, which ssh2vsock does not know`);
  }
  return { ok: true, cert, authority };
}

/**
 * Problems with a user certificate meant for `publicKey` ([] = fine): not a user certificate,
 * certifies another key, outside its validity at `now`, or a CA signature that does not verify
 * (SHA-1 included).
 * @example checkUserCertificate(cert, identity.publicKey, new Date()) // ["expired (valid until 2026-12-01T10:00:00Z)"]
 */
export function checkUserCertificate(cert: SshCertificate, publicKey: PublicKey, now: Date): string[] {
  const problems: string[] = [];
  if (cert.kind !== "user") problems.push("it is a host certificate, not a user certificate");
  if (!cert.key.blob.equals(publicKey.blob)) {
    problems.push(
      `it certifies key ${fingerprintSha256(cert.key.blob)} (${cert.key.type}), ` +
        `not this private key's ${fingerprintSha256(publicKey.blob)} (${publicKey.type})`,
    );
  }
  const validity = validityProblem(cert, now);
  if (validity) problems.push(validity.reason);
  const signature = verifyCertificateSignature(cert);
  if (!signature.ok) problems.push(signature.reason);
  return problems;
}

/**
 * True when one of `principals`, read as an OpenSSH pattern, names `hostname` (lower-cased as
 * ssh does before matching; the principals are compared as written).
 * @example principalsName(["*.example.com"], "web1.example.com") // true
 */
export function principalsName(principals: readonly string[], hostname: string): boolean {
  const name = hostname.toLowerCase();
  return principals.some((pattern) => wildcardMatch(name, pattern));
}

function validityProblem(
  cert: SshCertificate,
  now: Date,
): { failure: "not-yet-valid" | "expired"; reason: string } | undefined {
  const ms = now.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("the time to check a certificate against is not a valid date");
  const seconds = BigInt(Math.floor(ms / 1000));
  if (seconds < cert.validAfter) return { failure: "not-yet-valid", reason: `not yet valid (valid from ${formatTime(cert.validAfter)})` };
  if (seconds >= cert.validBefore) return { failure: "expired", reason: `expired (valid until ${formatTime(cert.validBefore)})` };
  return undefined;
}
