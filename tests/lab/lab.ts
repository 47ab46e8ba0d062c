// The e2e test topology (DESIGN.md "Test topology"): a real sshd on 127.0.0.1 as hypervisor,
// one real sshd per guest in its own network namespace, and a socat wrapper standing in for vsock.

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePasswordUser, cryptHash, installGuestShadow, passwordUser } from "./_accounts.ts";
import { generateClientKeys, generateHostKeys, knownHostsLines, publicKeyOf, type HostKeyType } from "./_keys.ts";
import { Sshd, sshdFeatures } from "./_sshd.ts";
import { socatWrapperScript } from "./_socat_wrapper.ts";
import { freePort, requireLabTools, run, settleAll, type LabTools } from "./_system.ts";
import { Cleanup } from "./_cleanup.ts";
import { labConfigToml } from "./_config_file.ts";
import { startBridges, writeVirsh, type LabLibvirt, type LabSockets } from "./_transports.ts";

export type { LabDomain } from "./_virsh_wrapper.ts";
export type { LabLibvirt, LabSockets } from "./_transports.ts";
export { GARBAGE_REPLY } from "./_unix_bridges.ts";

export type GuestVariant = "default" | "chacha-only" | "rsa-only" | "not-listening";

export interface LabGuest {
  /** `g1`, `g2`, … */
  name: string;
  /** 3, 4, … */
  cid: number;
  netns: string;
  port: 22;
  /** `ed25519` / `ecdsa` / `rsa` -> public key path; empty when not listening. */
  hostKeyPubFiles: Record<string, string>;
  /** The guest sshd's log (DEBUG1); empty string when not listening. */
  sshdLog: string;
  listening: boolean;
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
}

export interface LabOptions {
  guests?: number;
  guestVariants?: Partial<Record<string, GuestVariant>>;
  /** The hypervisor sshd's MaxSessions (channels per connection); default 200. */
  hypervisorMaxSessions?: number;
}

const firstCid = 3;
const variants: GuestVariant[] = ["default", "chacha-only", "rsa-only", "not-listening"];

/** Starts a lab; it throws (never skips) when not root or when sshd, socat or ip are missing. */
export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const tools = requireLabTools();
  const count = opts.guests ?? 2;
  if (!Number.isInteger(count) || count < 0 || count > 50) throw new Error(`tests/lab: bad guest count ${count}`);
  const names = Array.from({ length: count }, (_, i) => `g${i + 1}`);
  for (const [key, variant] of Object.entries(opts.guestVariants ?? {})) {
    if (!names.includes(key)) throw new Error(`tests/lab: guestVariants names ${key}, but guests are ${names.join(", ")}`);
    if (!variants.includes(variant!)) throw new Error(`tests/lab: unknown variant ${variant} for ${key} (${variants.join(", ")})`);
  }
  const variantOf = (name: string): GuestVariant => opts.guestVariants?.[name] ?? "default";

  const id = uniqueId();
  const dir = await mkdtemp(join(tmpdir(), `s2vlab-${id}-`));
  const cleanup = new Cleanup(tools, dir);
  try {
    return await build(tools, dir, id, names, variantOf, cleanup, opts);
  } catch (err) {
    await cleanup.run();
    throw err;
  }
}

async function build(
  tools: LabTools,
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
  const specs = names.map((name, i) => ({ name, cid: firstCid + i, netns: `s2v${id}${name}`, variant: variantOf(name) }));

  // sshd refuses to start without its privilege separation directory (NOTES.md).
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  await Promise.all([mkdir(authorizedKeysDir, { recursive: true }), mkdir(join(dir, "bin"))]);

  const [features, hash, client, hvKeys, guestKeys] = await settleAll([
    run(tools.sshd, ["-V"], { allowFailure: true }).then((r) => sshdFeatures(r.stderr + r.stdout)),
    ensurePasswordUser(tools).then(() => cryptHash(tools, password)),
    generateClientKeys(tools.sshKeygen, join(dir, "client"), passphrase),
    generateHostKeys(tools.sshKeygen, join(dir, "hypervisor"), ["ed25519", "ecdsa", "rsa"], "lab-hypervisor"),
    settleAll(
      specs.map((g): Promise<Record<string, string>> => {
        if (g.variant === "not-listening") return Promise.resolve({});
        const types: HostKeyType[] = g.variant === "rsa-only" ? ["rsa"] : ["ed25519", "ecdsa", "rsa"];
        return generateHostKeys(tools.sshKeygen, join(dir, g.name), types, `lab-${g.name}`);
      }),
    ),
    settleAll(specs.map((g) => addNetns(tools, g.netns, cleanup))),
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

  const wrapper = join(dir, "bin", "socat");
  const cids = new Map(specs.map((g) => [g.cid, g.netns] as [number, string]));
  await writeFile(wrapper, socatWrapperScript({ realSocat: tools.socat, ip: tools.ip, cids }));
  await chmod(wrapper, 0o755);
  const libvirt = await writeVirsh(tools, dir, specs);
  const sockets = await startBridges(tools, id, specs, cleanup);

  const guestSshds = specs.map((g, i) => {
    if (g.variant === "not-listening") return undefined;
    const keys = Object.values(guestKeys[i]!).map((pub) => pub.replace(/\.pub$/, ""));
    const ciphers = g.variant === "chacha-only" ? ["chacha20-poly1305@openssh.com"] : undefined;
    const sshd = new Sshd(tools, { dir: join(dir, g.name), port: 22, hostKeys: keys, authorizedKeysDir, ciphers, netns: g.netns });
    cleanup.sshds.push(sshd);
    return sshd;
  });
  const hv = new Sshd(tools, {
    dir: join(dir, "hypervisor"),
    port: 0, // chosen in startHypervisor
    hostKeys: Object.values(hvKeys).map((pub) => pub.replace(/\.pub$/, "")),
    authorizedKeysDir,
    sessionPath: `${join(dir, "bin")}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    maxSessions: opts.hypervisorMaxSessions,
  });
  cleanup.sshds.push(hv);

  await settleAll([
    startHypervisor(hv, features),
    ...guestSshds.map(async (s) => {
      if (!s) return;
      await s.writeConfig(features);
      await s.start();
    }),
  ]);

  const guests: LabGuest[] = specs.map((g, i) => ({
    name: g.name,
    cid: g.cid,
    netns: g.netns,
    port: 22,
    hostKeyPubFiles: guestKeys[i]!,
    sshdLog: guestSshds[i]?.log ?? "",
    listening: guestSshds[i] !== undefined,
  }));

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
    hypervisorConnectionCount: () => countConnections(hv.log, hv.spec.port),
  };
}

/** Picks a free port and starts the hypervisor there, retrying if another process wins the port. */
async function startHypervisor(hv: Sshd, features: { perSourcePenalties: boolean }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    hv.spec.port = await freePort();
    await hv.writeConfig(features);
    try {
      await hv.start();
      return;
    } catch (err) {
      const lost = /Address already in use|Bind to port/.test(String(err));
      if (!lost || attempt >= 5) throw err;
    }
  }
}

function countConnections(log: string, port: number): number {
  let text = "";
  try {
    text = readFileSync(log, "utf8");
  } catch {
    return 0;
  }
  const re = new RegExp(`^.*Connection from \\S+ port \\d+ on \\S+ port ${port}\\b`, "gm");
  return text.match(re)?.length ?? 0;
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
