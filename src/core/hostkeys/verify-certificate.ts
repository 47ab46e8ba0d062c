// The verdict on a presented host certificate: trusted through a matching @cert-authority key,
// or as its plain key when no CA is known for the host (as OpenSSH does), else refused with why.
import type { HostKeyVerdict, PublicKey, TrustAnchors } from "./types.ts";
import { fingerprintSha256 } from "./keys.ts";
import { describeCertificate } from "./certificate.ts";
import { checkHostCertificate } from "./certificate-check.ts";

type PlainVerifier = (anchors: TrustAnchors, presented: PublicKey) => HostKeyVerdict;

/**
 * Decides a host certificate K_S for `context.hostname` at `context.now`. Every check of
 * checkHostCertificate applies to a certificate signed by a CA trusted for the host. One whose
 * CA no line names falls back, as in OpenSSH, to its certified key checked as a plain key
 * (@revoked lines still apply); without any CA for the host, a refusal is the plain key's.
 * @example verifyHostCertificate(anchors, { type: "ssh-ed25519-cert-v01@openssh.com", blob }, { hostname: "web1", now: new Date() }, verifyHostKey)
 */
export function verifyHostCertificate(
  anchors: TrustAnchors,
  presented: PublicKey,
  context: { hostname: string; now: Date },
  verifyPlain: PlainVerifier,
): HostKeyVerdict {
  const check = checkHostCertificate(presented.blob, {
    hostname: context.hostname,
    now: context.now,
    authorities: anchors.certAuthorities,
    revoked: anchors.revoked,
  });
  if (check.ok) {
    return { kind: "trusted", source: `@cert-authority ${check.authority.source}`, certificate: describeCertificate(check.cert) };
  }
  const certificate = check.cert ? describeCertificate(check.cert) : undefined;
  if (check.failure === "no-authority" && check.cert) {
    const plain = verifyPlain(anchors, check.cert.key);
    if (plain.kind === "trusted") return { ...plain, certificate };
    if (anchors.certAuthorities.length === 0) return plain;
  }
  const expected = anchors.certAuthorities.map((ca) => `${fingerprintSha256(ca.key.blob)} (${ca.key.type}) CA from ${ca.source}`);
  return {
    kind: "certificate-refused",
    presented: fingerprintSha256(presented.blob),
    expected,
    failure: check.failure,
    reason: check.reason,
    ...(certificate ? { certificate } : {}),
  };
}
