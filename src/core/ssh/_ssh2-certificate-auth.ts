// Teaches ssh2 1.17 to log in with an OpenSSH user certificate: ssh2 signs a publickey request with
// the key's own type as both the request's algorithm and the signature's, which fits plain keys only.
//
// A certificate request (RFC 4252 §7 with the OpenSSH PROTOCOL.certkeys names) carries the
// certificate algorithm (`ssh-ed25519-cert-v01@openssh.com`, `rsa-sha2-512-cert-v01@openssh.com`)
// and the certificate blob, but its signature is named after the plain algorithm (`ssh-ed25519`,
// `rsa-sha2-512`): sshd refuses anything else. ssh2 writes one name in both places, so this module
// replaces ssh2's internal `Protocol.prototype.authPK` once, and only for key objects marked by
// certificateKey(); every other key still takes ssh2's own path. It also records the server's
// `server-sig-algs` (RFC 8308) on the protocol object, which ssh2 keeps private to its client, to
// choose rsa-sha2-512 or rsa-sha2-256 for RSA certificates; SHA-1 (`ssh-rsa-cert-v01`) is never sent.
// It relies on ssh2 internals (Protocol.authPK, its packet writer, the message handler table):
// an ssh2 upgrade must keep tests/e2e/user-certificates.test.ts passing.
import ssh2 from "./ssh2.ts";
import type { ParsedKey } from "ssh2";

// ssh2 ships no types for its internals; these are the few members used here.
interface Ssh2Protocol {
  _kex: { sessionID: Buffer };
  _authsQueue: string[];
  _packetRW: { write: { allocStart: number; alloc(len: number): Buffer; finalize(packet: Buffer): Buffer } };
  _debug?: (line: string) => void;
  authPK(username: string, key: unknown, keyAlgo?: unknown, cbSign?: unknown): void;
  [SERVER_SIG_ALGS]?: string[];
}
type SignCallback = (data: Buffer, done: (signature: Buffer) => void) => void;

// @ts-expect-error ssh2 has no type declarations for its internal modules
const Protocol = (await import("ssh2/lib/protocol/Protocol.js")).default as { prototype: Ssh2Protocol };
// @ts-expect-error ssh2 has no type declarations for its internal modules
const MESSAGE_HANDLERS = (await import("ssh2/lib/protocol/handlers.js")).default as ((self: Ssh2Protocol, payload: Buffer) => void)[];
// @ts-expect-error ssh2 has no type declarations for its internal modules
const protocolUtils = (await import("ssh2/lib/protocol/utils.js")).default as {
  sendPacket(proto: Ssh2Protocol, packet: Buffer): void;
  convertSignature(signature: Buffer, keyType: string): Buffer | false;
};
void ssh2; // imported first so that the chacha20 shim is in place before ssh2's modules load

const CERTIFICATE = Symbol("ssh2vsock user certificate");
const SERVER_SIG_ALGS = Symbol("ssh2vsock server-sig-algs");
const MSG_EXT_INFO = 7;
const MSG_USERAUTH_REQUEST = 50;

interface CertificateMark {
  /** The whole certificate blob, sent as the public key. */
  blob: Buffer;
  /** The certificate's blob type, e.g. `ssh-rsa-cert-v01@openssh.com`. */
  type: string;
  /** Hash of the RSA signature algorithm announced for the attempt in flight. */
  hash?: "sha256" | "sha512";
}

/** The algorithm names of one certificate login attempt. */
export interface CertificateAlgorithm {
  /** Named in the request, e.g. `rsa-sha2-512-cert-v01@openssh.com`. */
  request: string;
  /** Names the signature inside the request, e.g. `rsa-sha2-512`. */
  signature: string;
  /** RSA only: the hash ssh2 must sign with. */
  hash?: "sha256" | "sha512";
}

/**
 * The algorithms for a certificate type. RSA takes rsa-sha2-512 unless the server's
 * server-sig-algs names rsa-sha2-256 and not rsa-sha2-512; never SHA-1.
 * @example certificateAlgorithm("ssh-rsa-cert-v01@openssh.com", ["rsa-sha2-256", "rsa-sha2-512"]).request // "rsa-sha2-512-cert-v01@openssh.com"
 */
export function certificateAlgorithm(certType: string, serverSigAlgs: string[] | undefined): CertificateAlgorithm {
  const plain = certType.replace(/-cert-v01@openssh\.com$/, "");
  if (plain !== "ssh-rsa") return { request: certType, signature: plain };
  const only256 = serverSigAlgs !== undefined && serverSigAlgs.includes("rsa-sha2-256") && !serverSigAlgs.includes("rsa-sha2-512");
  const sig = only256 ? "rsa-sha2-256" : "rsa-sha2-512";
  return { request: `${sig}-cert-v01@openssh.com`, signature: sig, hash: only256 ? "sha256" : "sha512" };
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function requestHead(username: string, algorithm: CertificateAlgorithm, certBlob: Buffer, signed: boolean): Buffer {
  return Buffer.concat([
    Buffer.from([MSG_USERAUTH_REQUEST]),
    sshString(username),
    sshString("ssh-connection"),
    sshString("publickey"),
    Buffer.from([signed ? 1 : 0]),
    sshString(algorithm.request),
    sshString(certBlob),
  ]);
}

/**
 * The payload of a publickey USERAUTH_REQUEST for a certificate: without `signature` the query
 * (RFC 4252 §7, boolean FALSE), with it the signed request.
 */
export function certificateRequestPayload(
  username: string,
  algorithm: CertificateAlgorithm,
  certBlob: Buffer,
  signature?: Buffer,
): Buffer {
  const head = requestHead(username, algorithm, certBlob, signature !== undefined);
  if (!signature) return head;
  return Buffer.concat([head, sshString(Buffer.concat([sshString(algorithm.signature), sshString(signature)]))]);
}

/** What the client signs: the session identifier, then the signed request up to the certificate blob. */
export function certificateSignedData(sessionId: Buffer, username: string, algorithm: CertificateAlgorithm, certBlob: Buffer): Buffer {
  return Buffer.concat([sshString(sessionId), requestHead(username, algorithm, certBlob, true)]);
}

function send(proto: Ssh2Protocol, payload: Buffer): void {
  const writer = proto._packetRW.write;
  const start = writer.allocStart;
  const packet = writer.alloc(payload.length);
  payload.copy(packet, start);
  proto._authsQueue.push("publickey");
  protocolUtils.sendPacket(proto, writer.finalize(packet));
}

const originalAuthPK = Protocol.prototype.authPK;
Protocol.prototype.authPK = function authPK(this: Ssh2Protocol, username: string, key: unknown, keyAlgo?: unknown, cbSign?: unknown) {
  const mark = (key as { [CERTIFICATE]?: CertificateMark } | null)?.[CERTIFICATE];
  if (!mark) return originalAuthPK.call(this, username, key, keyAlgo, cbSign);
  const sign = (typeof keyAlgo === "function" ? keyAlgo : cbSign) as SignCallback | undefined;
  const algorithm = certificateAlgorithm(mark.type, this[SERVER_SIG_ALGS]);
  mark.hash = algorithm.hash;
  if (!sign) {
    this._debug?.(`Outbound: Sending USERAUTH_REQUEST (publickey -- check, ${algorithm.request})`);
    send(this, certificateRequestPayload(username, algorithm, mark.blob));
    return;
  }
  sign(certificateSignedData(this._kex.sessionID, username, algorithm, mark.blob), (raw) => {
    const signature = protocolUtils.convertSignature(raw, (key as ParsedKey).type);
    if (signature === false) throw new Error("Error while converting handshake signature");
    this._debug?.(`Outbound: Sending USERAUTH_REQUEST (publickey, ${algorithm.request})`);
    send(this, certificateRequestPayload(username, algorithm, mark.blob, signature));
  });
};

// ssh2's client keeps server-sig-algs to itself; keep a copy where authPK can see it.
const originalExtInfo = MESSAGE_HANDLERS[MSG_EXT_INFO]!;
MESSAGE_HANDLERS[MSG_EXT_INFO] = (self: Ssh2Protocol, payload: Buffer) => {
  try {
    let p = 1;
    const count = payload.readUInt32BE(p);
    p += 4;
    for (let i = 0; i < count; i++) {
      const nameLen = payload.readUInt32BE(p);
      const name = payload.toString("latin1", p + 4, p + 4 + nameLen);
      p += 4 + nameLen;
      const valueLen = payload.readUInt32BE(p);
      if (name === "server-sig-algs") self[SERVER_SIG_ALGS] = payload.toString("latin1", p + 4, p + 4 + valueLen).split(",");
      p += 4 + valueLen;
    }
  } catch {
    // Malformed: ssh2's own handler below reports it.
  }
  originalExtInfo(self, payload);
};

/**
 * A key object ssh2 accepts wherever it takes a parsed key (it keeps ssh2's internal marker
 * through the prototype chain) and that logs in with `certBlob` instead of the plain key.
 * RSA signatures use the hash of the algorithm announced (sha512 or sha256), whatever ssh2 asks.
 */
export function certificateKey(privateKey: ParsedKey, certBlob: Buffer, certType: string): ParsedKey {
  const mark: CertificateMark = { blob: Buffer.from(certBlob), type: certType };
  const key = Object.create(privateKey) as ParsedKey & { [CERTIFICATE]: CertificateMark };
  key[CERTIFICATE] = mark;
  key.sign = (data: Buffer, algo?: string) => privateKey.sign(data, mark.hash ?? algo);
  return key;
}

/** Whether a key object came from certificateKey(). */
export function isCertificateKey(key: unknown): boolean {
  return typeof key === "object" && key !== null && CERTIFICATE in key;
}

/**
 * For a certificate key: the RSA hash of the algorithm the login in flight announced (what an
 * agent must sign with); undefined for any other key, and for non-RSA certificates.
 */
export function certificateSigningHash(key: unknown): "sha256" | "sha512" | undefined {
  return typeof key === "object" && key !== null ? (key as { [CERTIFICATE]?: CertificateMark })[CERTIFICATE]?.hash : undefined;
}
