// What each guest variant runs in its namespace: which SSH server on port 22 (OpenSSH, tinysshd,
// dropbear or none), its host keys and login user, and the TCP service on 127.0.0.1:8080.

import { guestUser } from "./_accounts.ts";
import {
  certifyHostKeys,
  hostCertificateKeyTypes,
  hostCertificatePlan,
  hostCertificateVariants,
  type HostCertificateVariant,
  type LabCertificates,
} from "./_certificates.ts";
import type { Cleanup } from "./_cleanup.ts";
import type { NetnsDaemon } from "./_daemon.ts";
import { dropbearDaemon, dropbearHostKeys, serviceDaemon, tinysshdDaemon, tinysshdHostKeys } from "./_guest_servers.ts";
import { generateHostKeys, type HostKeyType } from "./_keys.ts";
import { Sshd, type SshdFeatures } from "./_sshd.ts";
import { settleAll, type LabTools, type ServerTools } from "./_system.ts";

export const guestVariants = [
  "default",
  "chacha-only",
  "rsa-only",
  "not-listening",
  "no-forwarding",
  "tinysshd",
  "dropbear",
  // OpenSSH guests whose host keys carry certificates (tests/lab/_certificates.ts); they need
  // the lab's `certificates` option.
  ...hostCertificateVariants,
] as const;

export type GuestVariant = (typeof guestVariants)[number];

/** The program that answers on a guest's port 22. */
export type GuestServer = "openssh" | "tinysshd" | "dropbear" | "none";

export function serverOf(variant: GuestVariant): GuestServer {
  if (variant === "not-listening") return "none";
  if (variant === "tinysshd" || variant === "dropbear") return variant;
  return "openssh";
}

/** The account the lab's client keys log into on a guest running `server`. */
export function loginUserOf(server: GuestServer): string {
  return server === "tinysshd" || server === "dropbear" ? guestUser : "root";
}

/**
 * The TCP service on each listening guest's loopback, for forward tunnels (`target`): it sends
 * `reply` on accepting, then echoes what it receives until the client closes. Every guest's is alike.
 */
export interface LabService {
  host: "127.0.0.1";
  port: 8080;
  /** `host:port`, as a tunnel's `target` takes it. */
  target: "127.0.0.1:8080";
  reply: string;
}

export const labService: LabService = Object.freeze({
  host: "127.0.0.1",
  port: 8080,
  target: "127.0.0.1:8080",
  reply: "hello from the ssh2vsock lab\n",
});

export interface GuestSpec {
  name: string;
  cid: number;
  netns: string;
  variant: GuestVariant;
}

/** Host keys of the guest's server in `dir` (type -> OpenSSH .pub path); none when not listening. */
export function guestHostKeys(tools: LabTools, servers: ServerTools, dir: string, g: GuestSpec): Promise<Record<string, string>> {
  const comment = `lab-${g.name}`;
  switch (serverOf(g.variant)) {
    case "none":
      return Promise.resolve({});
    case "tinysshd":
      return tinysshdHostKeys(servers, dir, comment);
    case "dropbear":
      return dropbearHostKeys(servers, dir, comment);
    case "openssh":
      return generateHostKeys(tools.sshKeygen, dir, openSshKeyTypes(g.variant), comment);
  }
}

function openSshKeyTypes(variant: GuestVariant): HostKeyType[] {
  if (variant === "rsa-only") return ["rsa"];
  if ((hostCertificateVariants as readonly string[]).includes(variant)) {
    return hostCertificateKeyTypes(variant as HostCertificateVariant);
  }
  return ["ed25519", "ecdsa", "rsa"];
}

/** A guest's processes, registered with `cleanup` before they start. */
export interface GuestProcesses {
  /** The SSH server's log (sshd DEBUG1, tinysshd -v, dropbear -E); empty when not listening. */
  log: string;
  /** Host key type -> certificate path, for the host-cert variants. */
  hostCertificates?: Record<string, string>;
  start(): Promise<void>;
}

export interface GuestContext {
  tools: LabTools;
  servers: ServerTools;
  features: SshdFeatures;
  authorizedKeysDir: string;
  cleanup: Cleanup;
  /** The lab's CAs (its `certificates` option): `TrustedUserCAKeys` and host certificates. */
  certificates?: LabCertificates;
}

/** The server on port 22 and the TCP service of guest `g`, whose files live in `dir`. */
export async function guestProcesses(ctx: GuestContext, dir: string, g: GuestSpec, pubFiles: Record<string, string>): Promise<GuestProcesses> {
  const server = serverOf(g.variant);
  if (server === "none") return { log: "", start: async () => {} };
  const daemons: NetnsDaemon[] = [];
  let sshd: Sshd | undefined;
  const pubs = Object.values(pubFiles);
  let hostCertificates: Record<string, string> | undefined;
  if (server === "openssh") {
    const plan = ctx.certificates && hostCertificatePlan(g.variant, g.name, ctx.certificates);
    if (plan) hostCertificates = await certifyHostKeys(ctx.tools.sshKeygen, pubFiles, plan);
    sshd = new Sshd(ctx.tools, {
      dir,
      port: 22,
      hostKeys: pubs.map((pub) => pub.replace(/\.pub$/, "")),
      authorizedKeysDir: ctx.authorizedKeysDir,
      ciphers: g.variant === "chacha-only" ? ["chacha20-poly1305@openssh.com"] : undefined,
      // Like an old server, the RSA-only guest also signs with SHA-1 (ssh-rsa) when a client
      // asks for nothing else: tests check that ssh2vsock refuses such a handshake.
      extraHostKeyAlgorithms: g.variant === "rsa-only" ? ["ssh-rsa"] : undefined,
      forwarding: g.variant !== "no-forwarding",
      netns: g.netns,
      trustedUserCaKeys: ctx.certificates?.userCaPub,
      hostCertificates: hostCertificates && Object.values(hostCertificates),
    });
    ctx.cleanup.sshds.push(sshd);
  } else if (server === "tinysshd") {
    daemons.push(await tinysshdDaemon(ctx.tools, ctx.servers, dir, g.netns));
  } else {
    daemons.push(dropbearDaemon(ctx.tools, ctx.servers, dir, g.netns, pubs));
  }
  daemons.push(serviceDaemon(ctx.tools, dir, g.netns, labService.port, labService.reply));
  ctx.cleanup.daemons.push(...daemons);
  return {
    log: sshd?.log ?? daemons[0]!.spec.log,
    ...(hostCertificates ? { hostCertificates } : {}),
    start: async () => {
      const starts = daemons.map((d) => d.start());
      if (sshd) starts.push(sshd.writeConfig(ctx.features).then(() => sshd.start()));
      await settleAll(starts);
    },
  };
}
