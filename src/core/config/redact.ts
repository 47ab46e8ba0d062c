// The resolved configuration as `config show` prints it: the config file's own attribute names
// and units (snake_case, seconds), plain JSON-able data, every secret replaced by <redacted>.

import { formatHostPort } from "./host-port.ts";
import { keyPath } from "./resolve.ts";
import { DEFAULTS } from "./schema.ts";
import type { GuestConfig, GuestTransport, HopConfig, HypervisorConfig } from "./types.ts";

/** What replaces a secret in printed configuration. */
export const REDACTED = "<redacted>";

/** A JSON-able value (what `config show` serialises). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Table = { [key: string]: Json };

// The file writes durations in seconds; the resolved config holds milliseconds.
const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

/** Drops unset attributes, as the file leaves them out. */
function defined(entries: Record<string, Json | undefined>): Table {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as Table;
}

function transportAttributes(t: GuestTransport): Table {
  switch (t.kind) {
    case "vsock":
      return { cid: t.cid };
    case "vsock-mux":
      return { vsock_mux: t.path };
    case "unix":
      return { unix_socket: t.path };
    case "libvirt":
      return { domain: t.domain };
  }
}

// Authentication is rebuilt attribute by attribute, so a secret field added later is left
// out rather than printed.
function hopAttributes(hop: HopConfig): Table {
  const v = hop.verification;
  const a = hop.auth;
  return defined({
    hostname: hop.hostname,
    port: hop.port,
    username: hop.username,
    connect_timeout: seconds(hop.connectTimeoutMs),
    keepalive_interval: seconds(hop.keepaliveIntervalMs),
    keepalive_count_max: hop.keepaliveCountMax,
    known_hosts: v.knownHosts.length > 0 ? [...v.knownHosts] : undefined,
    known_hosts_file: v.knownHostsFile,
    use_sshfp: v.useSshfp,
    dns_resolver: v.dnsResolver,
    ca_file: v.caFile,
    dns_tls_name: v.dnsTlsName,
    password: a.password !== undefined ? REDACTED : undefined,
    ssh_private_key: a.privateKeyFile,
    ssh_private_key_passphrase: a.passphrase !== undefined ? REDACTED : undefined,
    ssh_certificate: (a as { certificateFile?: string }).certificateFile,
    ssh_use_agent: a.useAgent,
    ssh_agent_sock: a.agentSock,
  });
}

/** Where a hypervisor came from, as an attribute path of the file (or the command line). */
function hypervisorOrigin(hv: HypervisorConfig, guestPath?: string): string {
  switch (hv.name) {
    case "default":
      return "hypervisor";
    case "local":
      return "default";
    case "cli":
      return "--hypervisor";
    case "inline":
      return guestPath ? `${guestPath}.hypervisor` : "inline";
    default:
      return keyPath("hypervisors", hv.name);
  }
}

/**
 * A hypervisor as its block would be written; a local one has no SSH hop, so only `local`,
 * `socat`, `mode` and where it came from.
 * @example hypervisorView(localHv) // { local: true, socat: "socat", origins: { hypervisor: "default" } }
 */
export function hypervisorView(hv: HypervisorConfig, guestPath?: string): Table {
  const origins = defined({
    hypervisor: hypervisorOrigin(hv, guestPath),
    verification: hv.local ? undefined : hv.verification.origin || null,
    authentication: hv.local ? undefined : hv.auth.origin || null,
    mode: hv.modeOrigin,
  });
  const ssh = hv.local ? {} : hopAttributes(hv);
  return { ...ssh, ...defined({ local: hv.local, socat: hv.socat, mode: hv.mode }), origins };
}

/**
 * A guest (and its hypervisor) under the file's attribute names, secrets redacted. `origins`
 * names the attribute path that supplied each inherited group, or `default`.
 * @example redactedView(guest).hypervisor.password // "<redacted>"
 */
export function redactedView(guest: GuestConfig): Table {
  const path = keyPath("guests", guest.name);
  return {
    ...transportAttributes(guest.transport),
    ...hopAttributes(guest.hop),
    ssh_ignore_host_key: guest.hop.verification.ignoreHostKey,
    listen: formatHostPort(guest.listen),
    target: formatHostPort(guest.target),
    mode: guest.mode,
    shutdown_timeout: (guest.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutSeconds * 1000) / 1000,
    hypervisor: hypervisorView(guest.hypervisor, path),
    origins: {
      verification: guest.hop.verification.origin || null,
      authentication: guest.hop.auth.origin || null,
      target: guest.targetOrigin ?? "default",
      // "default" says the mode followed from the target, so a reader knows nobody chose it.
      mode: guest.modeOrigin ?? "default",
    },
  };
}

/**
 * The whole `config show` document: the file read, the default hypervisor (the one ad-hoc
 * targets such as vsock/3 use) and every guest keyed by name, as `[guests.NAME]` in the file.
 * @example configView(undefined, localHv, []) // { file: null, hypervisor: { local: true, … }, guests: {} }
 */
export function configView(file: string | undefined, hypervisor: HypervisorConfig | undefined, guests: GuestConfig[]): Table {
  return {
    file: file ?? null,
    hypervisor: hypervisor ? hypervisorView(hypervisor) : null,
    guests: Object.fromEntries(guests.map((g) => [g.name, redactedView(g)])),
  };
}
