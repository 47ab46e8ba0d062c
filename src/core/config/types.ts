// The resolved configuration: what a guest and its hypervisor look like after inheritance,
// defaults and validation. Everything downstream of src/core/config reads only these types.

/** How a hop's host key is verified; the whole group comes from one level (DESIGN.md). */
export interface HopVerification {
  /** known_hosts lines given inline in the config. */
  knownHosts: string[];
  /** Path (already expanded) of a known_hosts file. */
  knownHostsFile?: string;
  useSshfp: boolean;
  /** `IPv4:PORT`, `[IPv6]:PORT` or `[fe80::1%eth0]:PORT` as written. */
  dnsResolver?: string;
  /** When set, SSHFP goes over DNS-over-TLS, verified against this CA bundle (expanded path). */
  caFile?: string;
  /** Name to check in the resolver's certificate instead of its IP address. */
  dnsTlsName?: string;
  /** Guest only: accept any host key (never valid for a hypervisor). */
  ignoreHostKey: boolean;
  /** Attribute path prefix of the level that supplied this group, e.g. `guests.web1`. */
  origin: string;
}

/** How a hop authenticates; the whole group comes from one level (DESIGN.md). Holds secrets. */
export interface HopAuth {
  password?: string;
  /** Path (already expanded) of a private key file. */
  privateKeyFile?: string;
  passphrase?: string;
  /**
   * Path (already expanded) of an OpenSSH user certificate (`ssh_certificate`) for the private key
   * or the agent's key. Unset: `KEY-cert.pub` beside the private key is used when it exists.
   */
  certificateFile?: string;
  useAgent: boolean;
  /** Agent socket: ssh_agent_sock, inherited per attribute, else $SSH_AUTH_SOCK. */
  agentSock?: string;
  origin: string;
}

/** One SSH hop (hypervisor or guest). */
export interface HopConfig {
  /** Hypervisor: the address to connect to. Guest: the name used for host key checking. */
  hostname?: string;
  port: number;
  username: string;
  verification: HopVerification;
  auth: HopAuth;
  /** `connect_timeout` in milliseconds (default 15 000). */
  connectTimeoutMs?: number;
  /** `keepalive_interval` in milliseconds (default 15 000; 0 turns keepalive off). */
  keepaliveIntervalMs?: number;
  /** `keepalive_count_max`: unanswered probes before the session ends (default 3). */
  keepaliveCountMax?: number;
}

/**
 * How a tunnel reaches the guest. `splice`: each client's own SSH session goes through the
 * relay to the guest's SSH port, its handshake checked by ssh2vsock; ssh2vsock needs no guest
 * credentials. `forward`: ssh2vsock logs into the guest itself and forwards to `target`.
 */
export type Mode = "splice" | "forward";

export interface HypervisorConfig extends HopConfig {
  /** `default` for the top-level `[hypervisor]`, the key of `[hypervisors.NAME]`, or `inline`/`cli`. */
  name: string;
  /** ssh2vsock runs on the hypervisor itself: no first SSH hop. */
  local: boolean;
  /** Command run on the hypervisor to reach the guest (`socat`). */
  socat: string;
  /** `mode` set in this block or [hypervisor]: the default of its guests (ad-hoc ones too). */
  mode?: Mode;
  /** Attribute path that set `mode` (`hypervisors.hv2.mode`), when it is set. */
  modeOrigin?: string;
}

/** How a guest's SSH stream is reached from its hypervisor. */
export type GuestTransport =
  | { kind: "vsock"; cid: number; port: number }
  | { kind: "vsock-mux"; path: string; port: number }
  | { kind: "unix"; path: string }
  | { kind: "libvirt"; domain: string; uri: "system" | "session" | "any"; port: number };

export interface HostPort {
  host: string;
  port: number;
}

export interface GuestConfig {
  /** Config key (`web1`) or the ad-hoc target as given (`vsock/3`). */
  name: string;
  transport: GuestTransport;
  hop: HopConfig;
  /** Tunnel entrance; default 127.0.0.1:0. */
  listen: HostPort;
  /** Tunnel exit on the guest (forward mode); default 127.0.0.1:22. */
  target: HostPort;
  /** Where `target` was set (`guests.web1.target`, `--target`); absent for the default, the guest's SSH. */
  targetOrigin?: string;
  /**
   * Resolved: guest → its hypervisor block → [hypervisor] → built-in default, which is
   * `splice` when `target` is the guest's SSH port (or unset) and `forward` otherwise.
   */
  mode: Mode;
  /** Where `mode` was set (`guests.web1.mode`, `hypervisors.hv2.mode`, `--mode`); absent when it follows from `target`. */
  modeOrigin?: string;
  /** `shutdown_timeout` in ms: how long SIGTERM lets open connections finish (default 10 000). */
  shutdownTimeoutMs?: number;
  hypervisor: HypervisorConfig;
}

/** A loaded configuration file (or none). */
export interface LoadedConfig {
  /** Path of the file read, or undefined when none was found. */
  file?: string;
  defaultHypervisor?: HypervisorConfig;
  guests: GuestConfig[];
}
