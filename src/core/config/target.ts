// Turns a command-line TARGET (DESIGN.md "Targets") into a resolved guest: a configured name,
// or an ad-hoc vsock/, qemu/, vsock-mux/ or unix/ form on the default (or --hypervisor) hypervisor.
// `qemu-system/` and `qemu-session/` spell `qemu:system/` and `qemu:session/` without a colon.

import { posix } from "node:path";
import { UsageError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import { libvirtDomainProblem } from "../vsock/libvirt-domain.ts";
import { type HypervisorOverride, parseHypervisorOverride } from "./hypervisor-override.ts";
import { modeFor } from "./mode.ts";
import { emptyVerification, hasAuth, hasVerification } from "./resolve.ts";
import { DEFAULTS } from "./schema.ts";
import { expandPath } from "./search.ts";
import type { GuestConfig, GuestTransport, HopAuth, HopConfig, HopVerification, HypervisorConfig, LoadedConfig } from "./types.ts";

export interface TargetOptions {
  /** `--hypervisor` as given. */
  hypervisorOverride?: string;
  /** `--port`: the guest's vsock (or socket) port when the target does not say. */
  port?: number;
  env: Record<string, string | undefined>;
  home: string;
  /** Used to find the default identity files (`~/.ssh/id_ed25519`, …); none are offered without it. */
  exists?: (path: string) => boolean;
}

/** An ad-hoc target's transport before ports are settled. */
export type AdHocTarget =
  | { kind: "vsock"; cid: number; port?: number }
  | { kind: "libvirt"; domain: string; uri: "system" | "session" | "any" }
  | { kind: "vsock-mux"; path: string }
  | { kind: "unix"; path: string };

const FORMS =
  "NAME (a [guests.NAME]), vsock/CID[:PORT], qemu/DOMAIN, qemu:system/DOMAIN (or qemu-system/DOMAIN), qemu:session/DOMAIN (or qemu-session/DOMAIN), vsock-mux/PATH, unix/PATH";
const HINT = `a target is ${FORMS}; "%" may replace the first "/" (vsock%3)`;

function badTarget(target: string, why: string): UsageError {
  return new UsageError(`bad target ${escapePeerText(JSON.stringify(target), 120)}: ${why}`, { hint: HINT });
}

// systemd-ssh-proxy's rule: absolute unless it starts with "./".
function socketPath(rest: string): string {
  return rest.startsWith("./") || rest.startsWith("/") ? rest : `/${rest}`;
}

/**
 * Parses an ad-hoc target form; undefined when the text is not one (it may be a guest name).
 * @example parseAdHocTarget("vsock%3:2222") // { kind: "vsock", cid: 3, port: 2222 }
 * @example parseAdHocTarget("unix/run/vm.sock") // { kind: "unix", path: "/run/vm.sock" }
 * @example parseAdHocTarget("qemu-system%web3") // { kind: "libvirt", domain: "web3", uri: "system" }
 */
export function parseAdHocTarget(target: string): AdHocTarget | undefined {
  // qemu-system/qemu-session are the colon-free spellings of qemu:system/qemu:session: scp and
  // rsync cut `host:path` at the first colon. No guest name can clash: names have no "/" or "%".
  const m = /^(vsock-mux|vsock|unix|qemu(?:[:-]system|[:-]session)?)[/%](.*)$/s.exec(target);
  if (!m) return undefined;
  const [, form, rest] = m as unknown as [string, string, string];
  if (rest === "") throw badTarget(target, `nothing after "${form}/"`);
  switch (form) {
    case "vsock": {
      const v = /^([0-9]{1,10})(?::([0-9]{1,5}))?$/.exec(rest);
      if (!v) throw badTarget(target, "expected vsock/CID or vsock/CID:PORT");
      const cid = Number(v[1]);
      if (cid < 3 || cid > 4294967294) throw badTarget(target, `cid ${cid} is outside 3 … 4294967294`);
      if (v[2] === undefined) return { kind: "vsock", cid };
      const port = Number(v[2]);
      if (port < 1 || port > 65535) throw badTarget(target, `port ${port} is outside 1 … 65535`);
      return { kind: "vsock", cid, port };
    }
    case "vsock-mux":
    case "unix":
      return { kind: form, path: socketPath(rest) };
    default: {
      const uri = form === "qemu" ? "any" : (form.slice(5) as "system" | "session");
      // The domain is sent to virsh through the hypervisor's shell: only name, UUID or ID characters.
      const problem = libvirtDomainProblem(rest);
      if (problem !== undefined) throw badTarget(target, problem);
      return { kind: "libvirt", domain: rest, uri };
    }
  }
}

/** The names of the configured guests, in file order (for `tunnel` with no target, completions). */
export function guestNames(loaded: LoadedConfig): string[] {
  return loaded.guests.map((g) => g.name);
}

function findGuest(target: string, loaded: LoadedConfig): GuestConfig | undefined {
  const exact = loaded.guests.find((g) => g.name === target);
  if (exact) return exact;
  // OpenSSH lower-cases %h, so `ProxyCommand ssh2vsock proxy %h` hands us `web1` for `Web1`.
  const folded = loaded.guests.filter((g) => g.name.toLowerCase() === target.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

function defaultVerification(home: string): HopVerification {
  return { ...emptyVerification("default"), knownHostsFile: posix.join(home, ".ssh", "known_hosts") };
}

function defaultAuth(agentSock: string | undefined, opts: TargetOptions): HopAuth {
  const auth: HopAuth = { useAgent: agentSock !== undefined, origin: "default" };
  if (agentSock !== undefined) auth.agentSock = agentSock;
  const key = ["id_ed25519", "id_ecdsa", "id_rsa"]
    .map((n) => posix.join(opts.home, ".ssh", n))
    .find((p) => opts.exists?.(p) === true);
  if (key !== undefined) auth.privateKeyFile = key;
  return auth;
}

// Command-line hops get OpenSSH's defaults for a group nobody configured.
function withDefaults<T extends HopConfig>(hop: T, opts: TargetOptions): T {
  const agentSock = hop.auth.agentSock ?? (opts.env.SSH_AUTH_SOCK || undefined);
  return {
    ...hop,
    verification: hasVerification(hop.verification) ? hop.verification : defaultVerification(opts.home),
    auth: hasAuth(hop.auth) ? hop.auth : defaultAuth(agentSock, opts),
  };
}

function overrideHypervisor(o: HypervisorOverride, base: HypervisorConfig | undefined, opts: TargetOptions): HypervisorConfig {
  const expand = (p: string) => expandPath(p, opts.env, opts.home);
  const agentSock = base?.auth.agentSock ?? (opts.env.SSH_AUTH_SOCK || undefined);
  let verification = base?.verification ?? emptyVerification("");
  if (o.knownHostsFile !== undefined) {
    verification = { ...emptyVerification("--hypervisor"), knownHostsFile: expand(o.knownHostsFile) };
  }
  let auth: HopAuth = base?.auth ?? { useAgent: false, origin: "" };
  if (o.privateKeyFile !== undefined) {
    auth = { useAgent: false, origin: "--hypervisor", privateKeyFile: expand(o.privateKeyFile) };
    if (agentSock !== undefined) auth.agentSock = agentSock;
  }
  const hv: HypervisorConfig = {
    name: "cli",
    local: o.local,
    port: o.port ?? DEFAULTS.port,
    username: o.username ?? DEFAULTS.username,
    verification: { ...verification, knownHosts: [...verification.knownHosts] },
    auth: { ...auth },
    socat: base?.socat ?? DEFAULTS.socat,
    connectTimeoutMs: base?.connectTimeoutMs ?? DEFAULTS.connectTimeoutSeconds * 1000,
    keepaliveIntervalMs: base?.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalSeconds * 1000,
    keepaliveCountMax: base?.keepaliveCountMax ?? DEFAULTS.keepaliveCountMax,
  };
  if (o.hostname !== undefined) hv.hostname = o.hostname;
  // Like socat and timing, the default hypervisor's mode outlives a --hypervisor address.
  if (base?.mode !== undefined) [hv.mode, hv.modeOrigin] = [base.mode, base.modeOrigin];
  return withDefaults(hv, opts);
}

function localHypervisor(opts: TargetOptions): HypervisorConfig {
  return overrideHypervisor({ local: true }, undefined, opts);
}

function adHocHypervisor(loaded: LoadedConfig, override: HypervisorOverride | undefined, opts: TargetOptions): HypervisorConfig {
  if (override) return overrideHypervisor(override, loaded.defaultHypervisor, opts);
  const hv = loaded.defaultHypervisor;
  if (!hv) return localHypervisor(opts);
  if (!hv.local && hv.hostname === undefined) {
    throw new UsageError(`no default hypervisor: [hypervisor] in ${loaded.file} has no hostname`, {
      hint: "pass --hypervisor [USER@]HOST[:PORT], or set hostname in [hypervisor]",
    });
  }
  return hv;
}

function adHocTransport(t: AdHocTarget, port: number, override: HypervisorOverride | undefined): GuestTransport {
  switch (t.kind) {
    case "vsock":
      return { kind: "vsock", cid: t.cid, port: t.port ?? port };
    case "libvirt":
      return { kind: "libvirt", domain: t.domain, uri: t.uri === "any" ? (override?.libvirtUri ?? "any") : t.uri, port };
    case "vsock-mux":
      return { kind: "vsock-mux", path: t.path, port };
    case "unix":
      return { kind: "unix", path: t.path };
  }
}

/**
 * Resolves a TARGET. A configured guest keeps its own hop; `--hypervisor` replaces its
 * hypervisor only when it uses the default one. An ad-hoc guest inherits its hop from the
 * hypervisor (verification and authentication groups, user name, timing) with the target
 * string as hostname, so a known_hosts entry for `vsock/3` matches as OpenSSH's %h would.
 * @example resolveTarget("vsock/3", { guests: [] }, { env: {}, home: "/root" }).hypervisor.local // true
 */
export function resolveTarget(target: string, loaded: LoadedConfig, opts: TargetOptions): GuestConfig {
  const override = opts.hypervisorOverride === undefined ? undefined : parseHypervisorOverride(opts.hypervisorOverride);
  const configured = findGuest(target, loaded);
  if (configured) {
    const usesDefault = configured.hypervisor.name === "default" || configured.hypervisor.name === "local";
    if (!override || !usesDefault) return configured;
    return { ...configured, hypervisor: overrideHypervisor(override, loaded.defaultHypervisor, opts) };
  }
  const adHoc = parseAdHocTarget(target);
  if (!adHoc) {
    const names = guestNames(loaded);
    const known = names.length > 0 ? `; configured guests: ${names.join(", ")}` : "";
    throw new UsageError(`unknown target ${escapePeerText(JSON.stringify(target), 120)}`, { hint: HINT + known });
  }
  const hypervisor = adHocHypervisor(loaded, override, opts);
  const port = (adHoc.kind === "vsock" ? adHoc.port : undefined) ?? opts.port ?? DEFAULTS.port;
  const hop = withDefaults(
    {
      hostname: target,
      port,
      username: hypervisor.username,
      verification: { ...hypervisor.verification, knownHosts: [...hypervisor.verification.knownHosts] },
      auth: { ...hypervisor.auth },
      connectTimeoutMs: hypervisor.connectTimeoutMs,
      keepaliveIntervalMs: hypervisor.keepaliveIntervalMs,
      keepaliveCountMax: hypervisor.keepaliveCountMax,
    },
    opts,
  );
  const guest: GuestConfig = {
    name: target,
    transport: adHocTransport(adHoc, opts.port ?? DEFAULTS.port, override),
    hop,
    listen: { ...DEFAULTS.listen },
    target: { ...DEFAULTS.target },
    // The default target is the guest's SSH: splice, unless the hypervisor's block says forward.
    mode: modeFor(undefined, port, hypervisor.mode),
    hypervisor,
  };
  if (hypervisor.mode !== undefined && hypervisor.modeOrigin !== undefined) guest.modeOrigin = hypervisor.modeOrigin;
  return guest;
}
