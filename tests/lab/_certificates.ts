// The lab's SSH certificate authorities (made by ssh-keygen at start-up with `certificates: true`),
// and host certificates signed with them for the guests that present one.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { HostKeyType } from "./_keys.ts";
import { run } from "./_system.ts";

/** Private key paths and their `.pub` paths; otherCa is a CA that nothing in the lab trusts. */
export interface LabCertificates {
  dir: string;
  hostCa: string;
  hostCaPub: string;
  /** Every OpenSSH server of the lab has `TrustedUserCAKeys userCaPub`. */
  userCa: string;
  userCaPub: string;
  otherCa: string;
  otherCaPub: string;
}

/** Generates the three ed25519 CAs in `dir`. */
export async function generateCertificateAuthorities(sshKeygen: string, dir: string): Promise<LabCertificates> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const names = ["host_ca", "user_ca", "other_ca"] as const;
  await Promise.all(
    names.map((n) => run(sshKeygen, ["-q", "-t", "ed25519", "-N", "", "-C", `lab-${n.replace("_", "-")}`, "-f", join(dir, n)])),
  );
  const [hostCa, userCa, otherCa] = names.map((n) => join(dir, n)) as [string, string, string];
  return {
    dir,
    hostCa,
    hostCaPub: `${hostCa}.pub`,
    userCa,
    userCaPub: `${userCa}.pub`,
    otherCa,
    otherCaPub: `${otherCa}.pub`,
  };
}

export interface SignOptions {
  /** CA private key path. */
  ca: string;
  /** The public key to certify; the certificate lands beside it as `…-cert.pub`. */
  pubFile: string;
  keyId: string;
  /** Comma-joined for -n; an empty list omits -n (a certificate valid for any principal). */
  principals: string[];
  /** ssh-keygen -V, e.g. `-1h:+1d`, `-2d:-1d`, `+1d:+2d`. */
  validity: string;
  /** Host certificate (-h); false signs a user certificate. */
  host: boolean;
  serial?: number;
}

/** Signs `pubFile` with `ca` (ssh-keygen -s) and returns the certificate's path. */
export async function signKey(sshKeygen: string, opts: SignOptions): Promise<string> {
  const args = ["-q", "-s", opts.ca, "-I", opts.keyId, "-V", opts.validity];
  if (opts.host) args.push("-h");
  if (opts.principals.length > 0) args.push("-n", opts.principals.join(","));
  if (opts.serial !== undefined) args.push("-z", String(opts.serial));
  await run(sshKeygen, [...args, opts.pubFile]);
  return opts.pubFile.replace(/\.pub$/, "-cert.pub");
}

/** Guest variants whose sshd presents host certificates, one way of making them each. */
export const hostCertificateVariants = [
  /** Sound: hostCa, host type, principal `NAME.lab.test`, valid -1h:+1d; ed25519, ECDSA and RSA keys. */
  "host-cert",
  /** Sound, but the guest has only an ECDSA (P-256) host key: ecdsa-sha2-nistp256-cert-v01. */
  "host-cert-ecdsa",
  /** Sound, but the guest has only an RSA host key: rsa-sha2-512/256-cert-v01. */
  "host-cert-rsa",
  /** Signed by otherCa, which nothing trusts. */
  "host-cert-other-ca",
  /** Valid -2d:-1d. */
  "host-cert-expired",
  /** Valid +1d:+2d. */
  "host-cert-not-yet-valid",
  /** Principals `NAME.elsewhere.test`, `elsewhere.lab.test`: not the guest's hostname. */
  "host-cert-wrong-principals",
  /** A user certificate (no -h) presented as host certificate. */
  "host-cert-user",
] as const;

export type HostCertificateVariant = (typeof hostCertificateVariants)[number];

/**
 * Host key types of a host-cert variant: the refused ones have ed25519 only (cheap, and nothing
 * depends on which certificate type the client prefers).
 */
export function hostCertificateKeyTypes(variant: HostCertificateVariant): HostKeyType[] {
  if (variant === "host-cert") return ["ed25519", "ecdsa", "rsa"];
  if (variant === "host-cert-ecdsa") return ["ecdsa"];
  if (variant === "host-cert-rsa") return ["rsa"];
  return ["ed25519"];
}

/** The lab's name for a guest (`NAME.lab.test`, as its config `hostname` and known_hosts say). */
export const guestHostname = (name: string): string => `${name}.lab.test`;

/** How the host keys of guest `name` are certified in `variant`; undefined for no certificate. */
export function hostCertificatePlan(
  variant: string,
  name: string,
  certs: LabCertificates,
): Omit<SignOptions, "pubFile"> | undefined {
  if (!(hostCertificateVariants as readonly string[]).includes(variant)) return undefined;
  const v = variant as HostCertificateVariant;
  return {
    ca: v === "host-cert-other-ca" ? certs.otherCa : certs.hostCa,
    keyId: `lab-${name}-${v}`,
    principals: v === "host-cert-wrong-principals" ? [`${name}.elsewhere.test`, "elsewhere.lab.test"] : [guestHostname(name)],
    validity: v === "host-cert-expired" ? "-2d:-1d" : v === "host-cert-not-yet-valid" ? "+1d:+2d" : "-1h:+1d",
    host: v !== "host-cert-user",
    serial: 7,
  };
}

/** Certifies each host key of a guest by `plan`; returns type -> certificate path. */
export async function certifyHostKeys(
  sshKeygen: string,
  pubFiles: Record<string, string>,
  plan: Omit<SignOptions, "pubFile">,
): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(pubFiles).map(async ([type, pubFile]) => [type, await signKey(sshKeygen, { ...plan, pubFile })] as const),
  );
  return Object.fromEntries(entries);
}
