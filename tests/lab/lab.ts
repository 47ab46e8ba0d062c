// The e2e test topology (DESIGN.md "Test topology"): a real sshd on 127.0.0.1 as hypervisor, one
// SSH server per guest (sshd, or a variant's tinysshd/dropbear) in its own netns, socat for vsock.

import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensureGuestUser,
  ensurePasswordUser,
  cryptHash,
  guestUser,
  installGuestPasswd,
  installGuestShadow,
  guestHomesOf,
  makeGuestHome,
  passwordUser,
} from "./_accounts.ts";
import { generateClientKeys, generateHostKeys, knownHostsLines, publicKeyOf } from "./_keys.ts";
import { guestHostKeys, guestProcesses, guestVariants, labService, loginUserOf, serverOf } from "./_guests.ts";
import type { GuestServer, GuestSpec, GuestVariant, LabService } from "./_guests.ts";
import { connectionCount, detectSshdFeatures, Sshd, startOnFreePort } from "./_sshd.ts";
import { socatWrapperScript } from "./_socat_wrapper.ts";
import { requireLabTools, requireServerTools, run, settleAll, type LabTools, type ServerTools } from "./_system.ts";
import { Cleanup } from "./_cleanup.ts";
import { generateCertificateAuthorities, hostCertificateVariants, type LabCertificates } from "./_certificates.ts";
import { labConfigToml } from "./_config_file.ts";
import { startBridges, writeVirsh, type LabLibvirt, type LabSockets } from "./_transports.ts";

export type { LabDomain } from "./_virsh_wrapper.ts";
export type { LabLibvirt, LabSockets } from "./_transports.ts";
export { GARBAGE_REPLY } from "./_unix_bridges.ts";

export type { GuestServer, GuestVariant, LabService } from "./_guests.ts";
export type { LabCertificates } from "./_certificates.ts";

export interface LabGuest {
  /** `g1`, `g2`, … */
  name: string;
  /** 3, 4, … */
  cid: number;
  netns: string;
  port: 22;
  /** `ed25519` / `ecdsa` / `rsa` -> public key path (OpenSSH format); empty when not listening. */
  hostKeyPubFiles: Record<string, string>;
  /**
   * The log of the guest's SSH server: sshd's (DEBUG1), tinysshd's (-v, every connection) or
   * dropbear's (-E); empty string when not listening.
   */
  sshdLog: string;
  listening: boolean;
  variant: GuestVariant;
  /** What answers on port 22: OpenSSH sshd, tinysshd, dropbear, or nothing (`not-listening`). */
  server: GuestServer;
  /**
   * The account the lab's client keys log into: `root` on OpenSSH guests, `s2vguest` (Lab.guestUser)
   * on tinysshd and dropbear guests, whose authorized_keys live in a lab-owned home.
   */
  loginUser: string;
  /** The TCP service on the guest's 127.0.0.1:8080 (Lab.guestService); none when not listening. */
  service?: LabService;
  /**
   * `host-cert*` variants: host key type -> the certificate its sshd presents (`HostCertificate`),
   * made as the variant says (tests/lab/_certificates.ts). Inspect with `ssh-keygen -L -f`.
   */
  hostCertificateFiles?: Record<string, string>;
}

export interface Lab {
  dir: string;
  hypervisor: {
    host: "127.0.0.1";
    port: number;
    user: "root";
    hostKeyPubFiles: Record<string, string>;
    sshdLog: string;
    /** Current PID (changes on restartHypervisor). */
    readonly pid: number;
  };
  guests: LabGuest[];
  clientKey: string;
  clientKeyEncrypted: string;
  clientKeyPem: string;
  passphrase: string;
  passwordUser: "s2vlab";
  password: string;
  /** The login user of the tinysshd and dropbear guests (LabGuest.loginUser). */
  guestUser: "s2vguest";
  /** The TCP service every listening guest runs on its 127.0.0.1:8080: `reply`, then an echo. */
  guestService: LabService;
  knownHostsFile: string;
  configFile: string;
  /**
   * The hypervisor's stand-ins (`socat` for vsock, `virsh` for libvirt): first on the hypervisor
   * sessions' PATH; put it first on PATH to run ssh2vsock in local mode against the lab.
   */
  binDir: string;
  /** Unix sockets on the hypervisor side (hypervisor and local mode alike), absolute paths. */
  sockets: LabSockets;
  /** Domains the lab's virsh knows: qemu:///system has each guest by name, session as `s-NAME`. */
  libvirt: LabLibvirt;
  stop(): Promise<void>;
  /** Stops the hypervisor sshd (dropping every open connection) and starts it on the same port. */
  restartHypervisor(): Promise<void>;
  /** Connections the hypervisor sshd has accepted, counted from its log (across restarts). */
  hypervisorConnectionCount(): number;
  /** The lab's CAs; only with the `certificates` option. */
  certificates?: LabCertificates;
}

export interface LabOptions {
  guests?: number;
  guestVariants?: Partial<Record<string, GuestVariant>>;
  /** The hypervisor sshd's MaxSessions (channels per connection); default 200. */
  hypervisorMaxSessions?: number;
  /**
   * Makes three CAs (lab.certificates) and gives every OpenSSH server of the lab (hypervisor and
   * OpenSSH guests) `TrustedUserCAKeys` for userCa, beside its authorized_keys.
   */
  certificates?: boolean;
}

const firstCid = 3;

/**
 * Starts a lab; it throws (never skips) when not root or when sshd, socat or ip are missing, or
 * tinysshd or dropbear when a guest variant runs them.
 */
export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const tools = requireLabTools();
  const count = opts.guests ?? 2;
  if (!Number.isInteger(count) || count < 0 || count > 50) throw new Error(`tests/lab: bad guest count ${count}`);
  const names = Array.from({ length: count }, (_, i) => `g${i + 1}`);
  for (const [key, variant] of Object.entries(opts.guestVariants ?? {})) {
    if (!names.includes(key)) throw new Error(`tests/lab: guestVariants names ${key}, but guests are ${names.join(", ")}`);
    if (!guestVariants.includes(variant!)) {
      throw new Error(`tests/lab: unknown variant ${variant} for ${key} (${guestVariants.join(", ")})`);
    }
  }
  const variantOf = (name: string): GuestVariant => opts.guestVariants?.[name] ?? "default";
  const servers = requireServerTools(names.map((n) => serverOf(variantOf(n))));
  const certVariant = names.map(variantOf).find((v) => (hostCertificateVariants as readonly string[]).includes(v));
  if (certVariant && !opts.certificates) throw new Error(`tests/lab: guest variant ${certVariant} needs startLab({ certificates: true })`);

  const id = uniqueId();
  const dir = await mkdtemp(join(tmpdir(), `s2vlab-${id}-`));
  const cleanup = new Cleanup(tools, dir);
  try {
    return await build(tools, servers, dir, id, names, variantOf, cleanup, opts);
  } catch (err) {
    await cleanup.run();
    throw err;
  }
}

async function build(
  tools: LabTools,
  servers: ServerTools,
  dir: string,
  id: string,
  names: string[],
  variantOf: (name: string) => GuestVariant,
  cleanup: Cleanup,
  opts: LabOptions,
): Promise<Lab> {
  const passphrase = secret();
  const password = secret();
  const authorizedKeysDir = join(dir, "authorized_keys");
  const specs: GuestSpec[] = names.map((name, i) => ({ name, cid: firstCid + i, netns: `s2v${id}${name}`, variant: variantOf(name) }));
  const guestUserNetns = specs.filter((g) => loginUserOf(serverOf(g.variant)) === guestUser).map((g) => g.netns);

  // sshd refuses to start without its privilege separation directory, /run/sshd (mode 0755).
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  await Promise.all([mkdir(authorizedKeysDir, { recursive: true }), mkdir(join(dir, "bin"))]);

  const [features, hash, client, hvKeys, guestKeys, , certificates] = await settleAll([
    detectSshdFeatures(tools, specs.some((g) => g.variant === "no-forwarding")),
    ensurePasswordUser(tools)
      .then(() => (guestUserNetns.length > 0 ? ensureGuestUser(tools) : undefined))
      .then(() => cryptHash(tools, password)),
    generateClientKeys(tools.sshKeygen, join(dir, "client"), passphrase),
    generateHostKeys(tools.sshKeygen, join(dir, "hypervisor"), ["ed25519", "ecdsa", "rsa"], "lab-hypervisor"),
    settleAll(specs.map((g) => guestHostKeys(tools, servers, join(dir, g.name), g))),
    settleAll(specs.map((g) => addNetns(tools, g.netns, cleanup))),
    opts.certificates ? generateCertificateAuthorities(tools.sshKeygen, join(dir, "certificates")) : Promise.resolve(undefined),
  ]);
  await installGuestShadow(
    specs.map((g) => g.netns),
    hash,
  );

  const clientPubs = await Promise.all(
    [client.clientKey, client.clientKeyEncrypted, client.clientKeyPem].map((k) => publicKeyOf(`${k}.pub`)),
  );
  const authorized = clientPubs.join("\n") + "\n";
  await Promise.all(
    ["root", passwordUser].map((u) => writeFile(join(authorizedKeysDir, u), authorized, { mode: 0o644 })),
  );
  if (guestUserNetns.length > 0) {
    const homes = guestHomesOf(id);
    cleanup.dirs.push(homes);
    await installGuestPasswd(guestUserNetns, await makeGuestHome(tools, homes, authorized));
  }

  const wrapper = join(dir, "bin", "socat");
  const cids = new Map(specs.map((g) => [g.cid, g.netns] as [number, string]));
  await writeFile(wrapper, socatWrapperScript({ realSocat: tools.socat, ip: tools.ip, cids }));
  await chmod(wrapper, 0o755);
  const libvirt = await writeVirsh(tools, dir, specs);
  const sockets = await startBridges(tools, id, specs, cleanup);

  const ctx = { tools, servers, features, authorizedKeysDir, cleanup, certificates };
  const guestProcs = await Promise.all(specs.map((g, i) => guestProcesses(ctx, join(dir, g.name), g, guestKeys[i]!)));
  const hv = new Sshd(tools, {
    dir: join(dir, "hypervisor"),
    port: 0, // chosen in startOnFreePort
    hostKeys: Object.values(hvKeys).map((pub) => pub.replace(/\.pub$/, "")),
    authorizedKeysDir,
    sessionPath: `${join(dir, "bin")}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    maxSessions: opts.hypervisorMaxSessions,
    trustedUserCaKeys: certificates?.userCaPub,
  });
  cleanup.sshds.push(hv);

  await settleAll([startOnFreePort(hv, features), ...guestProcs.map((p) => p.start())]);

  const guests: LabGuest[] = specs.map((g, i) => {
    const server = serverOf(g.variant);
    return {
      name: g.name,
      cid: g.cid,
      netns: g.netns,
      port: 22,
      hostKeyPubFiles: guestKeys[i]!,
      sshdLog: guestProcs[i]!.log,
      listening: server !== "none",
      variant: g.variant,
      server,
      loginUser: loginUserOf(server),
      ...(server === "none" ? {} : { service: labService }),
      ...(guestProcs[i]!.hostCertificates ? { hostCertificateFiles: guestProcs[i]!.hostCertificates } : {}),
    };
  });

  const knownHostsFile = join(dir, "known_hosts");
  const khLines = [
    ...(await knownHostsLines(`[127.0.0.1]:${hv.spec.port}`, Object.values(hvKeys))),
    ...(await Promise.all(guests.map((g) => knownHostsLines(`${g.name}.lab.test`, Object.values(g.hostKeyPubFiles))))).flat(),
  ];
  await writeFile(knownHostsFile, khLines.join("\n") + "\n", { mode: 0o644 });

  const configFile = join(dir, "ssh2vsock.toml");
  await writeFile(
    configFile,
    labConfigToml({ dir, hypervisorPort: hv.spec.port, knownHostsFile, privateKey: client.clientKey, guests }),
    { mode: 0o600 },
  );

  return {
    dir,
    hypervisor: {
      host: "127.0.0.1",
      port: hv.spec.port,
      user: "root",
      hostKeyPubFiles: hvKeys,
      sshdLog: hv.log,
      get pid() {
        return hv.pid ?? -1;
      },
    },
    guests,
    ...client,
    passphrase,
    passwordUser,
    password,
    guestUser,
    guestService: labService,
    knownHostsFile,
    configFile,
    binDir: join(dir, "bin"),
    sockets,
    libvirt,
    stop: () => cleanup.run(),
    restartHypervisor: async () => {
      await hv.stop();
      await hv.start();
    },
    hypervisorConnectionCount: () => connectionCount(hv.log, hv.spec.port),
    ...(certificates ? { certificates } : {}),
  };
}

async function addNetns(tools: LabTools, ns: string, cleanup: Cleanup): Promise<void> {
  await run(tools.ip, ["netns", "add", ns]);
  cleanup.netns.push(ns);
  await run(tools.ip, ["-n", ns, "link", "set", "lo", "up"]);
}

/** Four characters that no existing namespace of another lab uses. */
function uniqueId(): string {
  for (;;) {
    const id = Array.from(randomBytes(4), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
    if (!existsSync(`/run/netns/s2v${id}g1`) && !existsSync(`/etc/netns/s2v${id}g1`)) return id;
  }
}

function secret(): string {
  return randomBytes(18).toString("base64url");
}
