// OpenSSH certificates (`*-cert-v01@openssh.com`, format of OpenSSH's PROTOCOL.certkeys): a
// strict parser from the wire blob to typed fields, and a one-line description for messages.
//
// Blob layout: string type, string nonce, the certified key's fields, uint64 serial, uint32 kind
// (1 user, 2 host), string key ID, string principals (a list of strings), uint64 valid after,
// uint64 valid before, string critical options, string extensions (each a list of name/data
// string pairs, names in strictly increasing byte order), string reserved (empty), string CA
// key, string signature (string algorithm, string blob) over every byte before it.

import { HostKeyError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import type { PublicKey } from "./types.ts";
import { fingerprintSha256 } from "./keys.ts";
import { WireReader } from "./_wire.ts";
import { readKeyFields, readPublicKeyBlob } from "./_cert-keys.ts";

const CERT_SUFFIX = "-cert-v01@openssh.com";

// Certificate type (as a blob or a negotiated algorithm) → the type of the key it certifies.
// rsa-sha2-*-cert names only appear in negotiation, never inside a blob.
const CERTIFIED_KEY_TYPE: Record<string, string> = {
  "ssh-ed25519-cert-v01@openssh.com": "ssh-ed25519",
  "ecdsa-sha2-nistp256-cert-v01@openssh.com": "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384-cert-v01@openssh.com": "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521-cert-v01@openssh.com": "ecdsa-sha2-nistp521",
  "ssh-rsa-cert-v01@openssh.com": "ssh-rsa",
  "rsa-sha2-256-cert-v01@openssh.com": "ssh-rsa",
  "rsa-sha2-512-cert-v01@openssh.com": "ssh-rsa",
  "ssh-dss-cert-v01@openssh.com": "ssh-dss",
  "sk-ssh-ed25519-cert-v01@openssh.com": "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com": "sk-ecdsa-sha2-nistp256@openssh.com",
};

/** The blob types this parser reads (DSA and security-key certificates are refused). */
const PARSED_TYPES = new Set([
  "ssh-ed25519-cert-v01@openssh.com",
  "ecdsa-sha2-nistp256-cert-v01@openssh.com",
  "ecdsa-sha2-nistp384-cert-v01@openssh.com",
  "ecdsa-sha2-nistp521-cert-v01@openssh.com",
  "ssh-rsa-cert-v01@openssh.com",
]);

/** OpenSSH's limit on the number of principals in one certificate. */
const MAX_PRINCIPALS = 256;

/** `validBefore` of a certificate that never expires. */
export const FOREVER = 0xffffffffffffffffn;

/**
 * True for an OpenSSH certificate type or algorithm name.
 * @example isCertificateType("ssh-ed25519-cert-v01@openssh.com") // true
 */
export function isCertificateType(type: string): boolean {
  return type.endsWith(CERT_SUFFIX) && type.length > CERT_SUFFIX.length;
}

/**
 * The plain key type a certificate type (or negotiated certificate algorithm) certifies;
 * undefined when the name is not a certificate type this module knows.
 * @example certifiedKeyType("rsa-sha2-512-cert-v01@openssh.com") // "ssh-rsa"
 */
export function certifiedKeyType(certTypeOrAlgorithm: string): string | undefined {
  return Object.hasOwn(CERTIFIED_KEY_TYPE, certTypeOrAlgorithm) ? CERTIFIED_KEY_TYPE[certTypeOrAlgorithm] : undefined;
}

/** One OpenSSH certificate, as signed by its CA. */
export interface SshCertificate {
  /** Blob type, e.g. "ssh-ed25519-cert-v01@openssh.com". */
  type: string;
  /** The certified key re-encoded as a plain public key blob ({type:"ssh-ed25519", blob}). */
  key: PublicKey;
  nonce: Buffer;
  serial: bigint;
  kind: "user" | "host";
  keyId: string;
  principals: string[];
  /** Seconds since the epoch. */
  validAfter: bigint;
  /** Seconds since the epoch; FOREVER (0xffffffffffffffffn) means it never expires. */
  validBefore: bigint;
  criticalOptions: { name: string; data: Buffer }[];
  extensions: { name: string; data: Buffer }[];
  /** The CA's public key. */
  signatureKey: PublicKey;
  signature: { algorithm: string; blob: Buffer };
  /** The bytes the CA signed. */
  signedData: Buffer;
  /** The whole certificate blob. */
  blob: Buffer;
}

/**
 * Parses a certificate blob. Throws HostKeyError with code "malformed-certificate" on any
 * structural problem: truncation, trailing bytes, an unknown type or kind, a non-empty reserved
 * field, options out of order or repeated, a chained or unsupported CA key.
 * @example parseCertificate(presented.blob).principals // ["web1.example.com"]
 */
export function parseCertificate(blob: Buffer): SshCertificate {
  try {
    return readCertificate(blob);
  } catch (error) {
    throw new HostKeyError("malformed-certificate", `malformed SSH certificate: ${escapePeerText((error as Error).message)}`, {
      hint: "the certificate is damaged or not an OpenSSH certificate; sign the key again with `ssh-keygen -s CA …`",
    });
  }
}

/**
 * The fingerprint OpenSSH prints for a key (`ssh-keygen -l`, "Server host certificate: …"): a
 * certificate's is its certified key's, which the guest's own key file can be compared with.
 * A certificate that does not parse keeps its blob's (it was refused already).
 * @example keyFingerprint(presented) // "SHA256:ZLCRELUcDrhsiJFjA/p1noMfqjE3NBLzJfqoP9YivV8"
 */
export function keyFingerprint(key: PublicKey): string {
  let blob = key.blob;
  if (isCertificateType(key.type)) {
    try {
      blob = parseCertificate(key.blob).key.blob;
    } catch {
      // Unparseable: the blob's own fingerprint still names what was presented.
    }
  }
  return fingerprintSha256(blob);
}

/**
 * One line for messages, with every text from the certificate escaped.
 * @example describeCertificate(cert) // 'key ID "web1", serial 7, principals web1.example.com, valid 2026-12-01T10:00:00Z to 2026-12-02T10:00:00Z, CA SHA256:… (ssh-ed25519)'
 */
export function describeCertificate(cert: SshCertificate): string {
  const principals = cert.principals.length === 0 ? "no principals" : `principals ${formatPrincipals(cert.principals)}`;
  return (
    `key ID "${escapePeerText(cert.keyId, 100)}", serial ${cert.serial}, ${principals}, ` +
    `valid ${formatValidity(cert)}, CA ${fingerprintSha256(cert.signatureKey.blob)} (${cert.signatureKey.type})`
  );
}

/** The principals as messages show them: escaped, comma-separated, the list capped. */
export function formatPrincipals(principals: readonly string[]): string {
  const shown = principals.slice(0, 10).map((p) => escapePeerText(p, 100));
  if (principals.length > shown.length) shown.push(`… ${principals.length - shown.length} more`);
  return shown.join(", ");
}

/** "2026-12-01T10:00:00Z to 2026-12-02T10:00:00Z", "forever", "from … on", "until …". */
export function formatValidity(cert: Pick<SshCertificate, "validAfter" | "validBefore">): string {
  const { validAfter, validBefore } = cert;
  if (validAfter === 0n && validBefore === FOREVER) return "forever";
  if (validBefore === FOREVER) return `from ${formatTime(validAfter)} on`;
  if (validAfter === 0n) return `until ${formatTime(validBefore)}`;
  return `${formatTime(validAfter)} to ${formatTime(validBefore)}`;
}

// The largest second a Date can show as ISO text with a four-digit year (9999-12-31T23:59:59Z).
const LAST_ISO_SECOND = 253402300799n;

/** Seconds since the epoch as ISO 8601 UTC without milliseconds. */
export function formatTime(seconds: bigint): string {
  if (seconds > LAST_ISO_SECOND) return `${seconds} seconds after 1970 (beyond year 9999)`;
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

function readCertificate(blob: Buffer): SshCertificate {
  const reader = new WireReader(blob);
  const type = reader.text();
  if (!PARSED_TYPES.has(type)) {
    throw new Error(
      isCertificateType(type) ? `certificate type ${type} is not supported` : `${type} is not a certificate type`,
    );
  }
  const keyType = CERTIFIED_KEY_TYPE[type]!;
  const nonce = reader.bytes();
  const keyStart = reader.position;
  readKeyFields(reader, keyType);
  const key: PublicKey = { type: keyType, blob: Buffer.concat([sshString(keyType), blob.subarray(keyStart, reader.position)]) };
  const serial = reader.uint64();
  const kindValue = reader.uint32();
  if (kindValue !== 1 && kindValue !== 2) throw new Error(`unknown certificate kind ${kindValue} (1 user, 2 host)`);
  const keyId = readUtf8(reader.bytes(), "key ID");
  const principals = readPrincipals(reader.bytes());
  const validAfter = reader.uint64();
  const validBefore = reader.uint64();
  const criticalOptions = readOptions(reader.bytes(), "critical options");
  const extensions = readOptions(reader.bytes(), "extensions");
  if (reader.bytes().length !== 0) throw new Error("the reserved field is not empty");
  const caBlob = reader.bytes();
  const signedEnd = reader.position;
  const signatureField = reader.bytes();
  if (!reader.done) throw new Error("trailing bytes after the signature");

  const ca = readCaKey(caBlob);
  const sigReader = new WireReader(signatureField);
  const algorithm = sigReader.text();
  const signatureBlob = sigReader.bytes();
  if (!sigReader.done) throw new Error("trailing bytes inside the signature");

  return {
    type,
    key,
    nonce,
    serial,
    kind: kindValue === 1 ? "user" : "host",
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
    signatureKey: { type: ca, blob: caBlob },
    signature: { algorithm, blob: signatureBlob },
    signedData: blob.subarray(0, signedEnd),
    blob,
  };
}

function readCaKey(caBlob: Buffer): string {
  let caType: string;
  try {
    caType = new WireReader(caBlob).text();
  } catch (error) {
    throw new Error(`the CA key is unreadable (${(error as Error).message})`);
  }
  if (isCertificateType(caType)) throw new Error("the CA key is itself a certificate (chained certificates are not supported)");
  try {
    return readPublicKeyBlob(caBlob).type;
  } catch (error) {
    throw new Error(`the CA key is not usable: ${(error as Error).message}`);
  }
}

function readPrincipals(field: Buffer): string[] {
  const reader = new WireReader(field);
  const principals: string[] = [];
  while (!reader.done) {
    if (principals.length === MAX_PRINCIPALS) throw new Error(`more than ${MAX_PRINCIPALS} principals`);
    principals.push(readUtf8(reader.bytes(), "principal"));
  }
  return principals;
}

function readOptions(field: Buffer, what: string): { name: string; data: Buffer }[] {
  const reader = new WireReader(field);
  const options: { name: string; data: Buffer }[] = [];
  let previous: string | undefined;
  while (!reader.done) {
    const rawName = reader.bytes();
    if (rawName.length === 0 || rawName.some((b) => b < 0x21 || b > 0x7e)) {
      throw new Error(`an option name in the ${what} is empty or not printable ASCII`);
    }
    const name = rawName.toString("latin1");
    const data = reader.bytes();
    // Names are printable ASCII, so string order is byte order (OpenSSH's strcmp).
    if (previous !== undefined && name <= previous) {
      throw new Error(`${what} are not in strictly increasing order (${name} after ${previous})`);
    }
    previous = name;
    options.push({ name, data });
  }
  return options;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function readUtf8(raw: Buffer, what: string): string {
  if (raw.includes(0)) throw new Error(`a ${what} contains a NUL byte`);
  try {
    return UTF8.decode(raw);
  } catch {
    throw new Error(`a ${what} is not valid UTF-8`);
  }
}

function sshString(text: string): Buffer {
  const body = Buffer.from(text, "latin1");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}
