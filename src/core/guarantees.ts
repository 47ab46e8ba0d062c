// Names the settings that weaken what ssh2vsock guarantees (a listener others can reach, a guest
// key not checked, SSHFP whose AD bit can be forged on the way, secrets others can read): pure.
import { isIPv4, isIPv6 } from "node:net";
import type { GuestConfig, HopAuth, HopVerification, HypervisorConfig } from "./config/types.ts";
import { formatHostPort } from "./config/host-port.ts";
import { resolverAddressProblem } from "./dns/resolver-address.ts";

/** Stable identifiers: log events (`--log-format json`), doctor's detail, scripts rely on them. */
export type GuaranteeCode = "listen-not-loopback" | "host-key-ignored" | "sshfp-plain-dns" | "config-secrets-readable";

/** One weakened guarantee: what is weaker and why (one line, no secret), and what restores it. */
export interface WeakenedGuarantee {
  code: GuaranteeCode;
  /** The guest it concerns, when it concerns one. */
  guest?: string;
  message: string;
  hint: string;
}

export interface GuaranteeInput {
  /** The guests of this run, as they will run (`--listen` applied). */
  guests: GuestConfig[];
  /** Hypervisors to look at besides the guests' own (the configuration's default). */
  hypervisors?: HypervisorConfig[];
  /** Whether this run opens the guests' listeners (tunnel, run; not proxy). */
  listeners: boolean;
  /** The configuration file read and its permission bits. */
  configFile?: { path: string; mode: number };
}

/**
 * Every weakened guarantee, each said once, in a fixed order: listeners and ignored keys per
 * guest, then SSHFP per resolver, then the configuration file.
 * @example weakenedGuarantees({ guests, listeners: true, configFile: { path: "/etc/ssh2vsock/config.toml", mode: 0o644 } })
 */
export function weakenedGuarantees(input: GuaranteeInput): WeakenedGuarantee[] {
  const out: WeakenedGuarantee[] = [];
  for (const g of input.guests) {
    if (input.listeners && !isLoopbackHost(g.listen.host)) {
      out.push({
        code: "listen-not-loopback",
        guest: g.name,
        message: `the tunnel to ${g.name} listens on ${formatHostPort(g.listen)}, which other machines can reach: whoever connects there gets the path to the guest that ssh2vsock verified`,
        hint: `listen on 127.0.0.1 (listen = "127.0.0.1:${g.listen.port}") unless others are meant to connect`,
      });
    }
    if (g.hop.verification.ignoreHostKey) {
      const origin = g.hop.verification.origin || `guests.${g.name}`;
      out.push({
        code: "host-key-ignored",
        guest: g.name,
        message: `${origin}.ssh_ignore_host_key = true: ssh2vsock accepts any key from ${g.name}, so anyone on the path to the guest can pose as it unless your SSH client checks the key itself`,
        hint: "list the guest's key (known_hosts or known_hosts_file; ssh2vsock keyscan prints it) or use SSHFP, and remove ssh_ignore_host_key",
      });
    }
  }
  const all = hops(input);
  out.push(...plainSshfp(all));
  const file = input.configFile;
  if (file && (file.mode & 0o044) !== 0 && holdsSecret(all.map((h) => h.auth))) {
    const who = [file.mode & 0o040 ? "its group" : "", file.mode & 0o004 ? "every user" : ""].filter(Boolean).join(" and ");
    out.push({
      code: "config-secrets-readable",
      message: `${file.path} holds a password or passphrase and ${who} can read it (mode 0${(file.mode & 0o777).toString(8)})`,
      hint: `chmod 600 ${file.path}, or keep secrets out of it (ssh_use_agent, or a key file without passphrase)`,
    });
  }
  return out;
}

/**
 * True for addresses only this machine can reach: 127.0.0.0/8, ::1 (also IPv4-mapped), localhost.
 * @example isLoopbackHost("127.0.0.1") // true
 * @example isLoopbackHost("0.0.0.0") // false
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIPv4(h)) return h.startsWith("127.");
  if (!isIPv6(h)) return false;
  if (/^(0{0,4}:){2,7}0{0,3}1$/.test(h)) return true;
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped !== null && mapped[1]!.startsWith("127.");
}

interface Hop {
  verification: HopVerification;
  auth: HopAuth;
}

/** Every hop of the run: each guest, its hypervisor and the extra hypervisors (repeats are harmless). */
function hops(input: GuaranteeInput): Hop[] {
  return [...input.guests.flatMap((g) => [g.hypervisor, g.hop]), ...(input.hypervisors ?? [])];
}

/** One warning per resolver that hands out SSHFP over plain DNS from another machine. */
function plainSshfp(all: Hop[]): WeakenedGuarantee[] {
  const users = new Map<string, string[]>();
  for (const { verification: v } of all) {
    if (!v.useSshfp || v.ignoreHostKey || v.caFile !== undefined || v.dnsResolver === undefined) continue;
    const addr = resolverAddressProblem(v.dnsResolver);
    if (typeof addr === "string" || isLoopbackHost(addr.host)) continue;
    const who = users.get(v.dnsResolver) ?? [];
    const name = v.origin || "hypervisor";
    if (!who.includes(name)) who.push(name);
    users.set(v.dnsResolver, who);
  }
  return [...users].map(([resolver, who]) => ({
    code: "sshfp-plain-dns" as const,
    message: `SSHFP records for ${who.join(", ")} come over plain DNS from ${resolver}, not on this machine: an attacker on the way can forge the answer and its AD bit (the resolver's "DNSSEC validated")`,
    hint: "set ca_file (and dns_tls_name if needed) so the resolver is reached over DNS-over-TLS, or run a validating resolver on this machine (dns_resolver = \"127.0.0.1:53\")",
  }));
}

/** A password or passphrase that came from the configuration file (not `--hypervisor`, not a default). */
function holdsSecret(auths: HopAuth[]): boolean {
  return auths.some((a) => (a.password !== undefined || a.passphrase !== undefined) && !a.origin.startsWith("-") && a.origin !== "default");
}
