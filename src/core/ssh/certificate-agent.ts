// An ssh-agent client that also offers the user certificates the agent holds (and a certificate
// file whose key is in the agent): ssh2's own agent client silently drops certificate identities.
//
// ssh2 1.17 parses every identity with its key parser, which knows no `*-cert-v01@openssh.com`
// type, so certificates `ssh-add` loaded never reach the server. This agent lists identities itself
// (SSH_AGENTC_REQUEST_IDENTITIES, draft-miller-ssh-agent §3.4), turns each user certificate into a
// certificate key (see _ssh2-certificate-auth.ts) and asks the agent to sign with the certified
// plain key, with the RSA hash the login announced (rsa-sha2-512 or -256, never SHA-1).
import ssh2 from "./ssh2.ts";
import type { Duplex } from "node:stream";
import type { ParsedKey } from "ssh2";
import { isCertificateType, keyTypeOfBlob, parseCertificate, type SshCertificate } from "../hostkeys/index.ts";
import { certificateKey, certificateSigningHash } from "./_ssh2-certificate-auth.ts";

const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENT_IDENTITIES_ANSWER = 12;

/** One identity as the agent lists it. */
export interface AgentIdentity {
  blob: Buffer;
  comment: string;
}

/**
 * Reads an SSH_AGENT_IDENTITIES_ANSWER message (type byte first, no length prefix).
 * Throws when it is not one or is cut short.
 */
export function parseIdentitiesAnswer(message: Buffer): AgentIdentity[] {
  if (message[0] !== SSH_AGENT_IDENTITIES_ANSWER) throw new Error(`the agent answered message ${message[0]}, not an identity list`);
  let p = 1;
  const take = (): Buffer => {
    if (p + 4 > message.length) throw new Error("the agent's identity list is cut short");
    const n = message.readUInt32BE(p);
    if (p + 4 + n > message.length) throw new Error("the agent's identity list is cut short");
    const out = message.subarray(p + 4, p + 4 + n);
    p += 4 + n;
    return out;
  };
  if (message.length < 5) throw new Error("the agent's identity list is cut short");
  const count = message.readUInt32BE(p);
  p += 4;
  const out: AgentIdentity[] = [];
  for (let i = 0; i < count; i++) out.push({ blob: Buffer.from(take()), comment: take().toString("utf8") });
  return out;
}

function publicKeyOf(blob: Buffer): ParsedKey | undefined {
  const parsed = ssh2.utils.parseKey(blob);
  if (parsed instanceof Error) return undefined;
  return (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey;
}

/** A certificate key for a user certificate (undefined for a host certificate or an unknown key type). */
function keyForCertificate(cert: SshCertificate): ParsedKey | undefined {
  if (cert.kind !== "user") return undefined;
  const plain = publicKeyOf(cert.key.blob);
  return plain && certificateKey(plain, cert.blob, cert.type);
}

/**
 * The keys to offer, in order: `first` (a certificate file whose key the agent holds), then the
 * agent's identities as it lists them, user certificates included; what ssh2 cannot use is left out.
 */
export function agentKeys(identities: AgentIdentity[], first?: SshCertificate): ParsedKey[] {
  const keys: ParsedKey[] = [];
  const firstKey = first && keyForCertificate(first);
  if (firstKey) keys.push(firstKey);
  for (const { blob } of identities) {
    if (first && blob.equals(first.blob)) continue;
    let type: string;
    try {
      type = keyTypeOfBlob(blob);
    } catch {
      continue;
    }
    let key: ParsedKey | undefined;
    if (isCertificateType(type)) {
      try {
        key = keyForCertificate(parseCertificate(blob));
      } catch {
        key = undefined;
      }
    } else {
      key = publicKeyOf(blob);
    }
    if (key) keys.push(key);
  }
  return keys;
}

function requestIdentities(stream: Duplex, done: (err: Error | null, identities?: AgentIdentity[]) => void): void {
  let buf = Buffer.alloc(0);
  const finish = (err: Error | null, ids?: AgentIdentity[]) => {
    stream.removeAllListeners("data");
    stream.destroy();
    done(err, ids);
  };
  stream.on("data", (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (buf.length < 4 || buf.length < 4 + buf.readUInt32BE(0)) return;
    try {
      finish(null, parseIdentitiesAnswer(buf.subarray(4, 4 + buf.readUInt32BE(0))));
    } catch (e) {
      finish(e as Error);
    }
  });
  stream.write(Buffer.from([0, 0, 0, 1, SSH_AGENTC_REQUEST_IDENTITIES]));
}

/**
 * ssh2's OpenSSH agent client, listing identities itself so that user certificates are offered.
 * @example new CertificateAgent(process.env.SSH_AUTH_SOCK!, certFromFile) // as ssh2's `agent` option
 */
export class CertificateAgent extends ssh2.OpenSSHAgent {
  readonly #first?: SshCertificate;

  constructor(socketPath: string, first?: SshCertificate) {
    super(socketPath);
    this.#first = first;
  }

  override getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    this.getStream((err, stream) => {
      if (err || !stream) return cb(err ?? new Error("Failed to connect to agent"));
      requestIdentities(stream, (e, ids) => (e ? cb(e) : cb(undefined, agentKeys(ids!, this.#first))));
    });
  }

  override sign(pubKey: ParsedKey | Buffer | string, data: Buffer, options?: unknown, cb?: unknown): boolean {
    const hash = certificateSigningHash(pubKey);
    if (hash === undefined) return super.sign(pubKey, data, options as never, cb as never);
    // A certificate key: the agent signs with the certified plain key (getPublicSSH), with the
    // hash of the announced algorithm.
    const callback = (typeof options === "function" ? options : cb) as never;
    return super.sign(pubKey, data, { hash }, callback);
  }
}
