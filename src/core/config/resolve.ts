// Inheritance (DESIGN.md "Configuration"): turns validated TOML tables into resolved hops,
// most specific level first: guest → its hypervisor block → top-level [hypervisor] → default.

import { ConfigError } from "../errors.ts";
import { hostPortProblem } from "./host-port.ts";
import { modeFor } from "./mode.ts";
import { DEFAULTS, VERIFICATION_ATTRIBUTES } from "./schema.ts";
import { expandPath } from "./search.ts";
import type {
  GuestConfig,
  GuestTransport,
  HopAuth,
  HopConfig,
  HopVerification,
  HostPort,
  HypervisorConfig,
  Mode,
} from "./types.ts";

/** A TOML table as smol-toml returns it. */
export type Table = Record<string, unknown>;

/** One level of the inheritance chain: a table and the attribute path it lives at. */
export interface Block {
  path: string;
  attrs: Table;
}

export interface ResolveContext {
  env: Record<string, string | undefined>;
  home: string;
}

/** A guest's hypervisor: its name (HypervisorConfig.name) and its levels, most specific first. */
export interface HypervisorChain {
  name: string;
  blocks: Block[];
}

// A passphrase or certificate alone does not claim the group: it never travels without its key.
const AUTH_CLAIMS = ["password", "ssh_private_key", "ssh_use_agent"];

/**
 * The attribute path of a table key, quoting keys that are not bare TOML keys.
 * @example keyPath("guests", "web1") // "guests.web1"
 * @example keyPath("guests", "a.b") // 'guests."a.b"'
 */
export function keyPath(prefix: string, key: string): string {
  const part = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return prefix === "" ? part : `${prefix}.${part}`;
}

/** Whether the top-level [hypervisor] is only a set of defaults (no hostname, not local). */
export function isTemplate(top: Table): boolean {
  return top.hostname === undefined && top.local !== true;
}

/**
 * The hypervisor levels of a guest: its inline table or named `[hypervisors.X]`, then the
 * top-level `[hypervisor]`. Undefined when the named hypervisor does not exist.
 */
export function hypervisorChain(raw: Table, guestPath: string, guest: Table): HypervisorChain | undefined {
  const top = raw.hypervisor as Table | undefined;
  const topBlocks: Block[] = top ? [{ path: "hypervisor", attrs: top }] : [];
  const ref = guest.hypervisor;
  if (typeof ref === "string") {
    const named = (raw.hypervisors as Record<string, Table> | undefined)?.[ref];
    if (named === undefined) return undefined;
    return { name: ref, blocks: [{ path: keyPath("hypervisors", ref), attrs: named }, ...topBlocks] };
  }
  if (typeof ref === "object" && ref !== null) {
    return { name: "inline", blocks: [{ path: `${guestPath}.hypervisor`, attrs: ref as Table }, ...topBlocks] };
  }
  return top ? { name: "default", blocks: topBlocks } : { name: "local", blocks: [] };
}

/** A `mode` somebody set, and the attribute path that set it. */
export interface ModeSetting {
  mode: Mode;
  origin: string;
}

function modeSetting(blocks: Block[]): ModeSetting | undefined {
  const from = blocks.find((b) => b.attrs.mode !== undefined);
  return from && { mode: from.attrs.mode as Mode, origin: `${from.path}.mode` };
}

/** The `mode` that applies to a guest: guest → its hypervisor block → [hypervisor]; undefined when none sets it. */
export function guestModeSetting(path: string, guest: Table, chain: HypervisorChain): ModeSetting | undefined {
  return modeSetting([{ path, attrs: guest }, ...chain.blocks]);
}

function pick<T>(blocks: Block[], name: string): T | undefined {
  for (const b of blocks) if (b.attrs[name] !== undefined) return b.attrs[name] as T;
  return undefined;
}

function expanded(value: unknown, ctx: ResolveContext): string | undefined {
  return typeof value === "string" ? expandPath(value, ctx.env, ctx.home) : undefined;
}

/** A verification group that trusts nothing; `origin` names who supplied it. */
export function emptyVerification(origin: string): HopVerification {
  return { knownHosts: [], useSshfp: false, ignoreHostKey: false, origin };
}

/** The verification group from the most specific level that sets any of it. */
export function resolveVerification(blocks: Block[], ctx: ResolveContext): HopVerification {
  const from = blocks.find((b) => VERIFICATION_ATTRIBUTES.some((n) => b.attrs[n] !== undefined));
  if (!from) return emptyVerification("");
  const a = from.attrs;
  return {
    knownHosts: [...((a.known_hosts as string[] | undefined) ?? [])],
    knownHostsFile: expanded(a.known_hosts_file, ctx),
    useSshfp: a.use_sshfp === true,
    dnsResolver: a.dns_resolver as string | undefined,
    caFile: expanded(a.ca_file, ctx),
    dnsTlsName: a.dns_tls_name as string | undefined,
    ignoreHostKey: a.ssh_ignore_host_key === true,
    origin: from.path,
  };
}

/** The authentication group from the most specific level that sets one; agent socket per attribute. */
export function resolveAuth(blocks: Block[], ctx: ResolveContext): HopAuth {
  const sock = expanded(pick(blocks, "ssh_agent_sock"), ctx) ?? (ctx.env.SSH_AUTH_SOCK || undefined);
  const from = blocks.find((b) => AUTH_CLAIMS.some((n) => b.attrs[n] !== undefined));
  const auth: HopAuth = { useAgent: false, origin: from?.path ?? "" };
  if (sock !== undefined) auth.agentSock = sock;
  if (!from) return auth;
  const a = from.attrs;
  if (typeof a.password === "string") auth.password = a.password;
  const key = expanded(a.ssh_private_key, ctx);
  if (key !== undefined) {
    auth.privateKeyFile = key;
    if (typeof a.ssh_private_key_passphrase === "string") auth.passphrase = a.ssh_private_key_passphrase;
  }
  auth.useAgent = a.ssh_use_agent === true;
  const certificate = expanded(a.ssh_certificate, ctx);
  if (certificate !== undefined && (key !== undefined || auth.useAgent)) auth.certificateFile = certificate;
  return auth;
}

/** Whether a verification group trusts anything at all (or deliberately nothing). */
export function hasVerification(v: HopVerification): boolean {
  return v.knownHosts.length > 0 || v.knownHostsFile !== undefined || v.useSshfp || v.ignoreHostKey;
}

/** Whether an authentication group offers any method. */
export function hasAuth(a: HopAuth): boolean {
  return a.password !== undefined || a.privateKeyFile !== undefined || a.useAgent;
}

function resolveHop(blocks: Block[], hostname: string | undefined, ctx: ResolveContext): HopConfig {
  const hop: HopConfig = {
    port: pick<number>(blocks, "port") ?? DEFAULTS.port,
    username: pick<string>(blocks, "username") ?? DEFAULTS.username,
    verification: resolveVerification(blocks, ctx),
    auth: resolveAuth(blocks, ctx),
    connectTimeoutMs: Math.round((pick<number>(blocks, "connect_timeout") ?? DEFAULTS.connectTimeoutSeconds) * 1000),
    keepaliveIntervalMs: Math.round(
      (pick<number>(blocks, "keepalive_interval") ?? DEFAULTS.keepaliveIntervalSeconds) * 1000,
    ),
    keepaliveCountMax: pick<number>(blocks, "keepalive_count_max") ?? DEFAULTS.keepaliveCountMax,
  };
  if (hostname !== undefined) hop.hostname = hostname;
  return hop;
}

/**
 * A hypervisor from its levels. The most specific level that sets `local` or `hostname`
 * decides whether it is local; no levels at all means local (nothing configured).
 */
export function resolveHypervisor(chain: HypervisorChain, ctx: ResolveContext): HypervisorConfig {
  const { name, blocks } = chain;
  const decider = blocks.find((b) => b.attrs.local !== undefined || b.attrs.hostname !== undefined);
  const local = blocks.length === 0 || decider?.attrs.local === true;
  const hostname = local ? undefined : pick<string>(blocks, "hostname");
  const hv: HypervisorConfig = {
    ...resolveHop(blocks, hostname, ctx),
    name,
    local,
    socat: pick<string>(blocks, "socat") ?? DEFAULTS.socat,
  };
  const mode = modeSetting(blocks);
  if (mode) [hv.mode, hv.modeOrigin] = [mode.mode, mode.origin];
  return hv;
}

function parseAddress(value: unknown, fallback: HostPort, minPort: 0 | 1, path: string): HostPort {
  if (typeof value !== "string") return { ...fallback };
  return parseGiven(value, minPort, path);
}

function parseGiven(value: string, minPort: 0 | 1, path: string): HostPort {
  const parsed = hostPortProblem(value, minPort);
  // Validation reports malformed addresses first; this guards direct callers.
  if (typeof parsed === "string") throw new ConfigError(`${path}: ${parsed}`);
  return parsed;
}

function transportOf(guest: Table, port: number, path: string): GuestTransport {
  if (typeof guest.cid === "number") return { kind: "vsock", cid: guest.cid, port };
  if (typeof guest.vsock_mux === "string") return { kind: "vsock-mux", path: guest.vsock_mux, port };
  if (typeof guest.unix_socket === "string") return { kind: "unix", path: guest.unix_socket };
  if (typeof guest.domain === "string") return { kind: "libvirt", domain: guest.domain, uri: "any", port };
  throw new ConfigError(`${path}: no cid, vsock_mux, unix_socket or domain`);
}

/** The guest hop alone: hostname from the guest, everything else through its levels. */
export function resolveGuestHop(path: string, guest: Table, chain: HypervisorChain, ctx: ResolveContext): HopConfig {
  return resolveHop([{ path, attrs: guest }, ...chain.blocks], guest.hostname as string | undefined, ctx);
}

/**
 * One guest after inheritance. Transport paths are not expanded: they name files on the
 * hypervisor, where this machine's `~` and environment mean nothing.
 */
export function resolveGuest(
  name: string,
  guest: Table,
  chain: HypervisorChain,
  ctx: ResolveContext,
): GuestConfig {
  const path = keyPath("guests", name);
  const hop = resolveGuestHop(path, guest, chain, ctx);
  // Validation has refused splice with a target it cannot serve; the mode is not checked again.
  const target = typeof guest.target === "string" ? parseGiven(guest.target, 1, `${path}.target`) : undefined;
  const setting = guestModeSetting(path, guest, chain);
  const resolved: GuestConfig = {
    name,
    transport: transportOf(guest, hop.port, path),
    hop,
    listen: parseAddress(guest.listen, DEFAULTS.listen, 0, `${path}.listen`),
    target: target ?? { ...DEFAULTS.target },
    mode: modeFor(target, hop.port, setting?.mode),
    shutdownTimeoutMs: Math.round(
      Math.max(0, pick<number>([{ path, attrs: guest }, ...chain.blocks], "shutdown_timeout") ?? DEFAULTS.shutdownTimeoutSeconds) * 1000,
    ),
    hypervisor: resolveHypervisor(chain, ctx),
  };
  if (target) resolved.targetOrigin = `${path}.target`;
  if (setting) resolved.modeOrigin = setting.origin;
  return resolved;
}

/**
 * The default hypervisor (top-level [hypervisor]), if the file has one. When it only holds
 * defaults (no hostname, not local) the result has no hostname: ad-hoc targets then need
 * `--hypervisor`, which keeps its verification and authentication.
 */
export function resolveDefaultHypervisor(raw: Table, ctx: ResolveContext): HypervisorConfig | undefined {
  const top = raw.hypervisor as Table | undefined;
  if (!top) return undefined;
  return resolveHypervisor({ name: "default", blocks: [{ path: "hypervisor", attrs: top }] }, ctx);
}

/** Every guest of a validated configuration, in file order. */
export function resolveGuests(raw: Table, ctx: ResolveContext): GuestConfig[] {
  const guests = (raw.guests as Record<string, Table> | undefined) ?? {};
  return Object.entries(guests).map(([name, guest]) => {
    const path = keyPath("guests", name);
    const chain = hypervisorChain(raw, path, guest);
    if (!chain) throw new ConfigError(`${path}.hypervisor: no such hypervisor`);
    return resolveGuest(name, guest, chain, ctx);
  });
}
