// Checks one hypervisor block or guest table on its own: known attributes, types, value
// ranges and the rules that concern a single block. Returns the well-typed attributes.

import { resolverAddressProblem, RESOLVER_ADDRESS_FORMS } from "../dns/resolver-address.ts";
import { hostNameForms, hostNameProblem } from "../hostname.ts";
import { escapePeerText } from "../peer-text.ts";
import { libvirtDomainProblem } from "../vsock/libvirt-domain.ts";
import { didYouMean } from "./_suggest.ts";
import { HOST_PORT_FORMS, hostPortProblem } from "./host-port.ts";
import { keyPath, type Table } from "./resolve.ts";
import {
  attributeNames,
  attributeSpec,
  type AttributeType,
  type BlockLevel,
  GUEST_TRANSPORT_ATTRIBUTES,
  REMOTE_ONLY_ATTRIBUTES,
  VERIFICATION_ATTRIBUTES,
} from "./schema.ts";

/** Records one problem at an attribute path. */
export type Report = (path: string, message: string) => void;

/** `a string`, `an integer`, … for "expected X, found Y" messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return "a string";
  if (typeof value === "bigint") return "an integer";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a float";
  if (typeof value === "boolean") return "a boolean";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  return "a table";
}

/** Whether a value is a TOML table (not an array, not a date). */
export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

const EXPECTED: Record<AttributeType, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "a boolean",
  "string[]": "an array of strings",
  hypervisor: "a hypervisor name (string) or an inline table",
};

/** `"a" or "b"`, `"a", "b" or "c"`. */
function oneOf(values: readonly string[]): string {
  const quoted = values.map((v) => JSON.stringify(v));
  return quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}

function hasType(type: AttributeType, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "string[]":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    case "hypervisor":
      return typeof value === "string" || isTable(value);
  }
}

function levelProblem(name: string, level: BlockLevel): string {
  if (name === "ssh_ignore_host_key") {
    return "the hypervisor's host key can never be ignored (ssh_ignore_host_key is only valid on a guest)";
  }
  return level === "hypervisor"
    ? `"${name}" is a guest attribute, not valid in a hypervisor block`
    : `"${name}" is a hypervisor attribute: set it in the guest's hypervisor block`;
}

// A configured string in a message: quoted, control characters escaped.
const shown = (value: unknown): string => escapePeerText(JSON.stringify(value), 120);

// Range and format rules for single values; undefined when the value is fine.
function valueProblem(name: string, value: unknown): string | undefined {
  switch (name) {
    case "port": {
      const n = value as number;
      return n >= 1 && n <= 65535 ? undefined : `port ${n} is outside 1 … 65535`;
    }
    case "cid": {
      const n = value as number;
      return n >= 3 && n <= 4294967294 ? undefined : `cid ${n} is outside 3 … 4294967294`;
    }
    case "dns_resolver": {
      const r = resolverAddressProblem(value as string);
      return typeof r === "string" ? `malformed dns_resolver "${value}": ${r}; accepted: ${RESOLVER_ADDRESS_FORMS}` : undefined;
    }
    case "listen":
    case "target": {
      const r = hostPortProblem(value as string, name === "listen" ? 0 : 1);
      return typeof r === "string" ? `malformed ${name} "${value}": ${r}; expected ${HOST_PORT_FORMS}` : undefined;
    }
    case "connect_timeout":
      return (value as number) > 0 ? undefined : "connect_timeout must be more than 0 seconds";
    case "keepalive_interval":
      return (value as number) >= 0 ? undefined : "keepalive_interval must be 0 (off) or more seconds";
    case "keepalive_count_max":
      return (value as number) >= 1 ? undefined : "keepalive_count_max must be at least 1";
    case "shutdown_timeout":
      return (value as number) >= 0 ? undefined : "shutdown_timeout must be 0 or more seconds";
    case "hostname": {
      // Written into known_hosts lookups and ssh-config's HostKeyAlias: one host, never a pattern or a line break.
      if (value === "") return "hostname is empty";
      const r = hostNameProblem(value as string);
      return r === undefined ? undefined : `malformed hostname ${shown(value)}: ${r}; expected ${hostNameForms()}`;
    }
    case "domain": {
      if (value === "") return "domain is empty";
      const r = libvirtDomainProblem(value as string);
      return r === undefined ? undefined : `malformed domain ${shown(value)}: ${r}`;
    }
    case "socat":
      // Sent to the hypervisor's login shell, which may be fish: no quoting is safe for these there.
      if (/['\\\x00-\x1f\x7f]/.test(value as string)) return `socat cannot contain "'", "\\" or control characters: it runs through the hypervisor's shell`;
      return value === "" ? "socat is empty" : undefined;
    case "username":
    case "vsock_mux":
    case "unix_socket":
      return value === "" ? `${name} is empty` : undefined;
  }
  return undefined;
}

function blockRules(path: string, s: Table, level: BlockLevel, report: Report): void {
  const mechanisms = ["password", "ssh_private_key"].filter((n) => s[n] !== undefined);
  if (s.ssh_use_agent === true) mechanisms.push("ssh_use_agent");
  if (mechanisms.length > 1) {
    report(path, `more than one authentication mechanism in one block (${mechanisms.join(", ")}): keep one`);
  }
  if (s.ssh_private_key_passphrase !== undefined && s.ssh_private_key === undefined) {
    report(
      `${path}.ssh_private_key_passphrase`,
      "ssh_private_key_passphrase without ssh_private_key in the same block: a passphrase never travels without its key",
    );
  }
  if (s.ssh_certificate !== undefined && s.ssh_private_key === undefined && s.ssh_use_agent !== true) {
    report(
      `${path}.ssh_certificate`,
      "ssh_certificate without ssh_private_key (or ssh_use_agent = true) in the same block: a certificate is offered with its private key",
    );
  }
  if (s.ssh_ignore_host_key === true) {
    const others = VERIFICATION_ATTRIBUTES.filter((n) => n !== "ssh_ignore_host_key" && s[n] !== undefined);
    if (others.length > 0) {
      report(`${path}.ssh_ignore_host_key`, `ssh_ignore_host_key beside ${others.join(", ")}: ignoring the host key contradicts checking it`);
    }
  }
  if (s.use_sshfp === true && s.dns_resolver === undefined) {
    report(`${path}.use_sshfp`, 'use_sshfp without dns_resolver: SSHFP needs a validating resolver (dns_resolver = "127.0.0.1:53")');
  }
  if (level === "hypervisor" && s.local === true) {
    const remote = REMOTE_ONLY_ATTRIBUTES.filter((n) => s[n] !== undefined);
    if (remote.length > 0) {
      report(`${path}.local`, `local = true beside ${remote.join(", ")}: a local hypervisor has no SSH hop`);
    }
  }
  if (level === "guest") {
    const set = GUEST_TRANSPORT_ATTRIBUTES.filter((n) => s[n] !== undefined);
    const choices = GUEST_TRANSPORT_ATTRIBUTES.join(", ");
    if (set.length === 0) report(path, `no transport: set exactly one of ${choices}`);
    if (set.length > 1) report(path, `more than one transport (${set.join(", ")}): set exactly one of ${choices}`);
  }
}

/**
 * Checks a block, reporting every problem, and returns its known, well-typed attributes
 * (an inline hypervisor table checked and filtered the same way); undefined if not a table.
 */
export function checkBlock(path: string, value: unknown, level: BlockLevel, report: Report): Table | undefined {
  if (!isTable(value)) {
    report(path, `wrong type: expected a table, found ${describe(value)}`);
    return undefined;
  }
  const sanitized: Table = {};
  for (const [name, v] of Object.entries(value)) {
    const at = keyPath(path, name);
    const spec = attributeSpec(name);
    if (!spec) {
      report(at, `unknown attribute "${name}"${didYouMean(name, attributeNames(level))}`);
      continue;
    }
    if (!spec.levels.includes(level)) {
      report(at, levelProblem(name, level));
      continue;
    }
    if (!hasType(spec.type, v)) {
      report(at, `wrong type: expected ${spec.values ? oneOf(spec.values) : EXPECTED[spec.type]}, found ${describe(v)}`);
      continue;
    }
    if (spec.values && !spec.values.includes(v as string)) {
      // Left out of the result like a type error, so hop rules never judge a value that means nothing.
      report(at, `unknown ${name} "${v as string}"${didYouMean(v as string, spec.values)}: expected ${oneOf(spec.values)}`);
      continue;
    }
    if (spec.type === "hypervisor" && isTable(v)) {
      const inline = checkBlock(at, v, "hypervisor", report);
      if (inline) sanitized[name] = inline;
      continue;
    }
    const problem = valueProblem(name, v);
    if (problem !== undefined) report(at, problem);
    sanitized[name] = v;
  }
  blockRules(path, sanitized, level, report);
  return sanitized;
}
