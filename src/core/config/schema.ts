// The configuration attribute table: every attribute's name, TOML type, the levels that may
// carry it, its group and how it is inherited. Validation and resolution both read it.

import { MODES } from "./mode.ts";

/** A value shape a TOML attribute may have. `hypervisor` is a name (string) or an inline table. */
export type AttributeType = "string" | "integer" | "number" | "boolean" | "string[]" | "hypervisor";

/** Where an attribute may appear: any hypervisor block, or a guest. */
export type BlockLevel = "hypervisor" | "guest";

export type AttributeGroup = "connection" | "timing" | "verification" | "authentication" | "transport" | "tunnel";

/**
 * How a value travels from less specific levels: per attribute, as part of its whole group
 * (DESIGN.md "Inheritance"), or not at all (it belongs to the block that sets it).
 */
export type Inheritance = "attribute" | "group" | "none";

export interface AttributeSpec {
  name: string;
  type: AttributeType;
  levels: readonly BlockLevel[];
  group: AttributeGroup;
  inherit: Inheritance;
  /** A local filesystem path: `~` and `$VAR` are expanded. */
  path?: boolean;
  /** Holds a secret: never shown by `config show`, never put in a message. */
  secret?: boolean;
  /** The only values a string attribute may take (an enumeration). */
  values?: readonly string[];
}

const HOP = ["hypervisor", "guest"] as const;
const GUEST = ["guest"] as const;
const HYPERVISOR = ["hypervisor"] as const;

/** Every attribute a hypervisor block or a guest may set. */
export const ATTRIBUTES: readonly AttributeSpec[] = [
  { name: "hostname", type: "string", levels: HOP, group: "connection", inherit: "attribute" },
  { name: "port", type: "integer", levels: HOP, group: "connection", inherit: "attribute" },
  { name: "username", type: "string", levels: HOP, group: "connection", inherit: "attribute" },
  { name: "connect_timeout", type: "number", levels: HOP, group: "timing", inherit: "attribute" },
  { name: "keepalive_interval", type: "number", levels: HOP, group: "timing", inherit: "attribute" },
  { name: "keepalive_count_max", type: "integer", levels: HOP, group: "timing", inherit: "attribute" },
  { name: "known_hosts", type: "string[]", levels: HOP, group: "verification", inherit: "group" },
  { name: "known_hosts_file", type: "string", levels: HOP, group: "verification", inherit: "group", path: true },
  { name: "use_sshfp", type: "boolean", levels: HOP, group: "verification", inherit: "group" },
  { name: "dns_resolver", type: "string", levels: HOP, group: "verification", inherit: "group" },
  { name: "ca_file", type: "string", levels: HOP, group: "verification", inherit: "group", path: true },
  { name: "dns_tls_name", type: "string", levels: HOP, group: "verification", inherit: "group" },
  { name: "ssh_ignore_host_key", type: "boolean", levels: GUEST, group: "verification", inherit: "group" },
  { name: "password", type: "string", levels: HOP, group: "authentication", inherit: "group", secret: true },
  { name: "ssh_private_key", type: "string", levels: HOP, group: "authentication", inherit: "group", path: true },
  {
    name: "ssh_private_key_passphrase",
    type: "string",
    levels: HOP,
    group: "authentication",
    inherit: "group",
    secret: true,
  },
  { name: "ssh_certificate", type: "string", levels: HOP, group: "authentication", inherit: "group", path: true },
  { name: "ssh_use_agent", type: "boolean", levels: HOP, group: "authentication", inherit: "group" },
  { name: "ssh_agent_sock", type: "string", levels: HOP, group: "authentication", inherit: "attribute", path: true },
  { name: "cid", type: "integer", levels: GUEST, group: "transport", inherit: "none" },
  { name: "vsock_mux", type: "string", levels: GUEST, group: "transport", inherit: "none" },
  { name: "unix_socket", type: "string", levels: GUEST, group: "transport", inherit: "none" },
  { name: "domain", type: "string", levels: GUEST, group: "transport", inherit: "none" },
  { name: "hypervisor", type: "hypervisor", levels: GUEST, group: "transport", inherit: "none" },
  { name: "listen", type: "string", levels: GUEST, group: "tunnel", inherit: "none" },
  { name: "target", type: "string", levels: GUEST, group: "tunnel", inherit: "none" },
  // On a hypervisor block it is the default of that hypervisor's guests.
  { name: "mode", type: "string", values: MODES, levels: HOP, group: "tunnel", inherit: "attribute" },
  { name: "shutdown_timeout", type: "number", levels: HOP, group: "tunnel", inherit: "attribute" },
  { name: "local", type: "boolean", levels: HYPERVISOR, group: "transport", inherit: "attribute" },
  { name: "socat", type: "string", levels: HYPERVISOR, group: "transport", inherit: "attribute" },
];

/** Keys allowed at the top of the file. */
export const TOP_LEVEL_KEYS = ["hypervisor", "hypervisors", "guests"] as const;

/** The verification group: the most specific level that sets any of these supplies them all. */
export const VERIFICATION_ATTRIBUTES = ATTRIBUTES.filter((a) => a.group === "verification").map((a) => a.name);

/** The authentication group (the agent socket is inherited per attribute, so it is not here). */
export const AUTH_ATTRIBUTES = ATTRIBUTES.filter((a) => a.group === "authentication" && a.inherit === "group").map(
  (a) => a.name,
);

/** Attributes that pick how a guest is reached; a guest sets exactly one. */
export const GUEST_TRANSPORT_ATTRIBUTES = ["cid", "vsock_mux", "unix_socket", "domain"] as const;

/** Attributes that make no sense beside `local = true` (there is no SSH hop to the hypervisor). */
export const REMOTE_ONLY_ATTRIBUTES = [
  "hostname",
  "port",
  "username",
  ...VERIFICATION_ATTRIBUTES,
  ...AUTH_ATTRIBUTES,
  "ssh_agent_sock",
];

/** Built-in defaults for attributes inherited per attribute. */
export const DEFAULTS = {
  port: 22,
  username: "root",
  socat: "socat",
  connectTimeoutSeconds: 15,
  keepaliveIntervalSeconds: 15,
  keepaliveCountMax: 3,
  shutdownTimeoutSeconds: 10,
  listen: { host: "127.0.0.1", port: 0 },
  target: { host: "127.0.0.1", port: 22 },
} as const;

const BY_NAME = new Map(ATTRIBUTES.map((a) => [a.name, a]));

/**
 * The spec of one attribute, whatever level it belongs to.
 * @example attributeSpec("cid")?.levels // ["guest"]
 */
export function attributeSpec(name: string): AttributeSpec | undefined {
  return BY_NAME.get(name);
}

/**
 * Names of the attributes a block at this level may set.
 * @example attributeNames("hypervisor").includes("socat") // true
 */
export function attributeNames(level: BlockLevel): string[] {
  return ATTRIBUTES.filter((a) => a.levels.includes(level)).map((a) => a.name);
}
