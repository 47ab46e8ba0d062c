// Finds a hop's user certificate (`ssh_certificate`, or `KEY-cert.pub` beside the private key as
// OpenSSH finds it) and reads it into a parsed certificate, refusing one that is not for that key.
import type { HopAuth } from "../config/types.ts";
import { AuthError } from "../errors.ts";
import {
  checkUserCertificate,
  describeCertificate,
  fingerprintSha256,
  isCertificateType,
  keyTypeOfBlob,
  parseCertificate,
  type PublicKey,
  type SshCertificate,
} from "../hostkeys/index.ts";
import { errnoText } from "../errno-text.ts";

/** A certificate to offer with a private key. */
export interface UserCertificate {
  path: string;
  /** Named by ssh_certificate (true), or found beside the private key (false). */
  explicit: boolean;
  cert: SshCertificate;
}

/** Reads a file; throws an errno error when it cannot. */
export type ReadCertificateFile = (path: string) => Buffer;

/**
 * The certificate file a hop would offer: `ssh_certificate`, else `KEY-cert.pub` beside the key.
 * @example certificateCandidate({ privateKeyFile: "/k/id_ed25519", useAgent: false, origin: "hypervisor" })
 * // { path: "/k/id_ed25519-cert.pub", explicit: false }
 */
export function certificateCandidate(auth: HopAuth): { path: string; explicit: boolean } | undefined {
  if (auth.certificateFile !== undefined) return { path: auth.certificateFile, explicit: true };
  if (auth.privateKeyFile !== undefined) return { path: `${auth.privateKeyFile}-cert.pub`, explicit: false };
  return undefined;
}

/**
 * Parses a certificate file's text, `TYPE BASE64 [COMMENT]` (what `ssh-keygen -s` writes).
 * Throws an Error saying what is wrong.
 */
export function parseCertificateText(text: string): SshCertificate {
  const m = /^\s*(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s.*)?$/s.exec(text);
  if (!m) throw new Error('expected one line "TYPE BASE64 [COMMENT]" as ssh-keygen -s writes it');
  const [, type, base64] = m as unknown as [string, string, string];
  if (!isCertificateType(type)) throw new Error(`${type} is not a certificate type (*-cert-v01@openssh.com)`);
  const blob = Buffer.from(base64, "base64");
  if (blob.toString("base64").replace(/=+$/, "") !== base64.replace(/=+$/, "")) throw new Error("the key data is not valid base64");
  if (keyTypeOfBlob(blob) !== type) throw new Error(`type ${type} does not match the certificate data (${keyTypeOfBlob(blob)})`);
  return parseCertificate(blob);
}

/** The problems that make a certificate unusable with this key at all (validity is the server's call). */
function unusable(cert: SshCertificate, publicKey: PublicKey): string | undefined {
  if (cert.kind !== "user") return "it is a host certificate, not a user certificate";
  if (!cert.key.blob.equals(publicKey.blob)) {
    return `it certifies another key (${fingerprintSha256(cert.key.blob)}), not this private key (${fingerprintSha256(publicKey.blob)})`;
  }
  return undefined;
}

/**
 * The certificate to offer with the hop's private key, whose public blob is `publicKeyBlob`
 * (undefined with the agent, which holds the key: then only the file's kind is checked).
 * A certificate named by ssh_certificate must be readable, a user certificate, and for this key,
 * or this is an AuthError; an automatic `KEY-cert.pub` that is missing or unusable is skipped, as
 * OpenSSH skips it. An expired certificate is still offered: the server decides, and a refusal
 * shows the certificate (userCertificateHint).
 */
export function loadUserCertificate(
  auth: HopAuth,
  publicKeyBlob: Buffer | undefined,
  readFile: ReadCertificateFile,
  hopLabel: string,
): UserCertificate | undefined {
  const candidate = certificateCandidate(auth);
  if (!candidate) return undefined;
  const { path, explicit } = candidate;
  const refuse = (why: string) =>
    new AuthError(`${hopLabel}: cannot use certificate ${path}: ${why}`, { hint: `check ${auth.origin}.ssh_certificate` });
  let text: string;
  try {
    text = readFile(path).toString("utf8");
  } catch (e) {
    if (!explicit) return undefined;
    throw refuse(`cannot read it: ${errnoText(e)}`);
  }
  let cert: SshCertificate;
  try {
    cert = parseCertificateText(text);
  } catch (e) {
    if (!explicit) return undefined;
    throw refuse((e as Error).message);
  }
  // With the agent (no key file) the certificate's own key stands in: only its kind is checked.
  const blob = publicKeyBlob ?? cert.key.blob;
  const problem = unusable(cert, { type: keyTypeOfBlob(blob), blob });
  if (problem !== undefined) {
    if (!explicit) return undefined;
    throw refuse(problem);
  }
  return { path, explicit, cert };
}

/**
 * What a user needs when a server refused the certificate: the certificate itself and, when it
 * has one, the problem this side can already see (expired, not yet valid).
 */
export function userCertificateHint(uc: UserCertificate, now: Date): string {
  const problems = checkUserCertificate(uc.cert, uc.cert.key, now);
  const seen = problems.length > 0 ? `; ${problems.join("; ")}` : "";
  return (
    `the server refused user certificate ${uc.path} (${describeCertificate(uc.cert)})${seen}; ` +
    "it must be valid now, list the login name among its principals, and be signed by a CA in the server's TrustedUserCAKeys"
  );
}
