// Parses `--hypervisor`: `local`, `[USER@]HOST[:PORT]`, `ssh://USER@HOST:PORT`, or libvirt's
// `qemu+ssh://USER@HOST:PORT/system?keyfile=…&knownhosts=…` (and `qemu:///system` for local).

import { UsageError } from "../errors.ts";

/** What `--hypervisor` says; unset fields come from the config or the built-in defaults. */
export interface HypervisorOverride {
  local: boolean;
  hostname?: string;
  port?: number;
  username?: string;
  /** `/system` or `/session` in a `qemu+ssh://` URI: which libvirt daemon `qemu/` targets ask. */
  libvirtUri?: "system" | "session";
  /** `keyfile=` (as given; the caller expands it). */
  privateKeyFile?: string;
  /** `knownhosts=` (as given; the caller expands it). */
  knownHostsFile?: string;
}

const FORMS = "local, [USER@]HOST[:PORT], ssh://USER@HOST:PORT or qemu+ssh://USER@HOST:PORT/system?keyfile=PATH&knownhosts=PATH";

function bad(spec: string, why: string): UsageError {
  return new UsageError(`bad --hypervisor "${spec}": ${why}`, { hint: `--hypervisor takes ${FORMS}` });
}

function parsePort(spec: string, text: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw bad(spec, `"${text}" is not a port in 1 … 65535`);
  }
  return Number(text);
}

function checkHost(spec: string, host: string): string {
  if (host === "" || /[\s/@]/.test(host)) throw bad(spec, `"${host}" is not a host name or address`);
  return host;
}

function libvirtPath(spec: string, path: string): "system" | "session" | undefined {
  if (path === "" || path === "/") return undefined;
  if (path === "/system" || path === "/session") return path.slice(1) as "system" | "session";
  throw bad(spec, `unknown libvirt path "${path}" (expected /system or /session)`);
}

function parseUri(given: string): HypervisorOverride {
  // Never echo a password from the URI's user part back: it is a secret even when misplaced.
  const spec = given.replace(/^([^:/]+:\/\/[^:@/]*):[^@/]*@/, "$1:<redacted>@");
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw bad(spec, "not a valid URI");
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme !== "ssh" && scheme !== "qemu+ssh") throw bad(spec, `unsupported scheme "${scheme}"`);
  if (url.password !== "") throw bad(spec, "passwords do not belong on the command line");
  const out: HypervisorOverride = { local: false, hostname: checkHost(spec, url.hostname.replace(/^\[(.*)\]$/, "$1")) };
  if (url.port !== "") out.port = parsePort(spec, url.port);
  if (url.username !== "") out.username = decodeURIComponent(url.username);
  if (scheme === "ssh") {
    if (url.pathname !== "" && url.pathname !== "/") throw bad(spec, "an ssh:// URI has no path");
    if (url.search !== "") throw bad(spec, "an ssh:// URI takes no parameters");
    return out;
  }
  const uri = libvirtPath(spec, url.pathname);
  if (uri) out.libvirtUri = uri;
  for (const [key, value] of url.searchParams) {
    if (key === "keyfile") out.privateKeyFile = value;
    else if (key === "knownhosts") out.knownHostsFile = value;
    else if (key === "no_verify" || key === "known_hosts_verify") {
      throw bad(spec, `${key} is not supported: the hypervisor's host key is always verified`);
    } else throw bad(spec, `unsupported parameter "${key}" (supported: keyfile, knownhosts)`);
  }
  return out;
}

/**
 * Parses a `--hypervisor` value; throws UsageError naming the accepted forms otherwise.
 * @example parseHypervisorOverride("alice@hv1:2222") // { local: false, hostname: "hv1", port: 2222, username: "alice" }
 */
export function parseHypervisorOverride(spec: string): HypervisorOverride {
  if (spec === "local") return { local: true };
  const localLibvirt = /^qemu:\/\/\/(system|session)$/.exec(spec);
  if (localLibvirt) return { local: true, libvirtUri: localLibvirt[1] as "system" | "session" };
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(spec)) return parseUri(spec);
  const at = spec.lastIndexOf("@");
  const out: HypervisorOverride = { local: false };
  if (at !== -1) {
    if (at === 0) throw bad(spec, "empty user name");
    out.username = spec.slice(0, at);
  }
  const rest = spec.slice(at + 1);
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (bracketed) {
    out.hostname = checkHost(spec, bracketed[1]!);
    if (bracketed[2] !== undefined) out.port = parsePort(spec, bracketed[2]);
  } else if (rest.split(":").length === 2) {
    const [host, port] = rest.split(":") as [string, string];
    out.hostname = checkHost(spec, host);
    out.port = parsePort(spec, port);
  } else {
    // No colon: a name; more than one: a bare IPv6 address (a port needs brackets).
    out.hostname = checkHost(spec, rest);
  }
  return out;
}
