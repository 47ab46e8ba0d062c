// OpenSSH certificates for the certificate suites, made at run time with ssh-keygen (never
// committed), plus a field splitter and a re-signing CA to craft certificates ssh-keygen won't.

import { execFileSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PublicKey, SourcedKey } from "../../src/core/hostkeys/index.ts";

export type KeyKind = "ed25519" | "ecdsa256" | "ecdsa384" | "ecdsa521" | "rsa";
export const KEY_KINDS: readonly KeyKind[] = ["ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa"];

export const PLAIN_TYPE: Record<KeyKind, string> = {
  ed25519: "ssh-ed25519",
  ecdsa256: "ecdsa-sha2-nistp256",
  ecdsa384: "ecdsa-sha2-nistp384",
  ecdsa521: "ecdsa-sha2-nistp521",
  rsa: "ssh-rsa",
};

const KEYGEN_ARGS: Record<KeyKind, string[]> = {
  ed25519: ["-t", "ed25519"],
  ecdsa256: ["-t", "ecdsa", "-b", "256"],
  ecdsa384: ["-t", "ecdsa", "-b", "384"],
  ecdsa521: ["-t", "ecdsa", "-b", "521"],
  rsa: ["-t", "rsa", "-b", "2048"],
};

export interface GeneratedKey {
  /** Private key path (the CA's, when used with -s). */
  path: string;
  pub: string;
  key: PublicKey;
}

export interface SignOptions {
  ca: GeneratedKey;
  subject: GeneratedKey;
  /** Host certificate (-h); default true. */
  host?: boolean;
  id?: string;
  /** -n; undefined or [] = no principals. */
  principals?: string[];
  /** -V, e.g. "-1h:+1d", "20261201100000:20261202100000" (read in UTC), "always:forever". */
  validity?: string;
  serial?: number | bigint;
  /** -O options, e.g. "critical:foo@example.com=bar", "force-command=ls". */
  options?: string[];
  /** -t signature algorithm for an RSA CA: rsa-sha2-256, rsa-sha2-512, ssh-rsa. */
  algorithm?: string;
}

export interface SignedCertificate {
  /** Path of the -cert.pub file. */
  path: string;
  blob: Buffer;
}

/** A scratch directory of keys and certificates; `cleanup()` removes it. */
export class CertificateLab {
  readonly dir = mkdtempSync(join(tmpdir(), "ssh2vsock-certs-"));
  private count = 0;

  /** Generates a key with ssh-keygen. */
  key(kind: KeyKind, name = `${kind}-${this.count++}`): GeneratedKey {
    const path = join(this.dir, name);
    run(["-q", "-N", "", "-C", name, "-f", path, ...KEYGEN_ARGS[kind]]);
    return { path, pub: `${path}.pub`, key: readPublicKeyFile(`${path}.pub`) };
  }

  /** Signs `subject` with `ca` through `ssh-keygen -s`; each call leaves its own certificate file. */
  sign(opts: SignOptions): SignedCertificate {
    const copy = join(this.dir, `subject-${this.count++}.pub`);
    copyFileSync(opts.subject.pub, copy);
    const args = ["-q", "-s", opts.ca.path, "-I", opts.id ?? "test-id"];
    if (opts.host ?? true) args.push("-h");
    if (opts.principals && opts.principals.length > 0) args.push("-n", opts.principals.join(","));
    if (opts.validity) args.push("-V", opts.validity);
    if (opts.serial !== undefined) args.push("-z", String(opts.serial));
    for (const option of opts.options ?? []) args.push("-O", option);
    if (opts.algorithm) args.push("-t", opts.algorithm);
    run([...args, copy]);
    const path = copy.replace(/\.pub$/, "-cert.pub");
    return { path, blob: readPublicKeyFile(path).blob };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `ssh-keygen -L -f PATH` in UTC, the oracle for parsed fields. */
export function listCertificate(path: string): string {
  return run(["-L", "-f", path]);
}

/** `ssh-keygen -l -E sha256 -f PATH`: the SHA256:… fingerprint. */
export function fingerprintOf(path: string): string {
  return run(["-l", "-E", "sha256", "-f", path]).split(" ")[1]!;
}

export function sourced(key: PublicKey, source: string): SourcedKey {
  return { key, source };
}

/** Seconds since the epoch as a Date. */
export function at(seconds: number | bigint): Date {
  return new Date(Number(seconds) * 1000);
}

function readPublicKeyFile(path: string): PublicKey {
  const [type, base64] = readFileSync(path, "utf8").trim().split(/\s+/);
  return { type: type!, blob: Buffer.from(base64!, "base64") };
}

function run(args: string[]): string {
  return execFileSync("ssh-keygen", args, {
    encoding: "utf8",
    env: { ...process.env, TZ: "UTC" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

// ---- Field-level surgery, read independently of the parser under test ----

/** Names of a certificate's top-level fields, in order (key fields vary by type). */
export interface CertificateFields {
  /** Raw bytes of each field, with its length prefix where it has one. */
  segments: { name: string; raw: Buffer }[];
}

const KEY_FIELD_NAMES: Record<string, string[]> = {
  "ssh-ed25519-cert-v01@openssh.com": ["pk"],
  "ecdsa-sha2-nistp256-cert-v01@openssh.com": ["curve", "point"],
  "ecdsa-sha2-nistp384-cert-v01@openssh.com": ["curve", "point"],
  "ecdsa-sha2-nistp521-cert-v01@openssh.com": ["curve", "point"],
  "ssh-rsa-cert-v01@openssh.com": ["e", "n"],
};

const FIXED: Record<string, number> = { serial: 8, kind: 4, validAfter: 8, validBefore: 8 };

/** Splits a certificate blob into its raw fields. */
export function splitCertificate(blob: Buffer): CertificateFields {
  let offset = 0;
  const segments: { name: string; raw: Buffer }[] = [];
  const take = (name: string) => {
    const fixed = FIXED[name];
    const size = fixed ?? 4 + blob.readUInt32BE(offset);
    segments.push({ name, raw: blob.subarray(offset, offset + size) });
    offset += size;
  };
  take("type");
  const type = segments[0]!.raw.subarray(4).toString("latin1");
  take("nonce");
  for (const name of KEY_FIELD_NAMES[type]!) take(name);
  for (const name of ["serial", "kind", "keyId", "principals", "validAfter", "validBefore", "critical", "extensions", "reserved", "caKey", "signature"]) {
    take(name);
  }
  if (offset !== blob.length) throw new Error("fixture: certificate has trailing bytes");
  return { segments };
}

/** Joins fields back, replacing those named in `replace` (raw bytes, length prefix included). */
export function joinCertificate(fields: CertificateFields, replace: Record<string, Buffer> = {}): Buffer {
  return Buffer.concat(fields.segments.map((s) => replace[s.name] ?? s.raw));
}

/** An SSH `string`. */
export function sshString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

export function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

export function uint64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(value);
  return out;
}

/** A name/data list (critical options, extensions) as its field: string of (string, string)*. */
export function optionList(options: [string, Buffer | string][]): Buffer {
  return sshString(Buffer.concat(options.flatMap(([name, data]) => [sshString(name), sshString(data)])));
}

/** A principal list as its field. */
export function principalList(principals: string[]): Buffer {
  return sshString(Buffer.concat(principals.map((p) => sshString(p))));
}

/**
 * An Ed25519 CA held by node:crypto, to sign crafted certificates with a valid signature so
 * that the check under test, not the signature, is what refuses them.
 */
export class CraftingCa {
  private readonly pair = generateKeyPairSync("ed25519");
  readonly key: PublicKey;
  constructor() {
    const x = Buffer.from(this.pair.publicKey.export({ format: "jwk" }).x!, "base64url");
    this.key = { type: "ssh-ed25519", blob: Buffer.concat([sshString("ssh-ed25519"), sshString(x)]) };
  }

  /** Re-signs `blob` after replacing fields; the CA key field becomes this CA's. */
  resign(blob: Buffer, replace: Record<string, Buffer> = {}): Buffer {
    const fields = splitCertificate(blob);
    const unsigned = fields.segments.filter((s) => s.name !== "signature");
    const body = joinCertificate({ segments: unsigned }, { ...replace, caKey: sshString(this.key.blob) });
    const signature = sign(null, body, this.pair.privateKey);
    return Buffer.concat([body, sshString(Buffer.concat([sshString("ssh-ed25519"), sshString(signature)]))]);
  }
}
