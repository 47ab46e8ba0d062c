// Parses `--hypervisor`: `local`, `[USER@]HOST[:PORT]`, `ssh://USER@HOST:PORT`, or libvirt's
// `qemu+ssh://USER@HOST:PORT/system?keyfile=…&knownhosts=…` (and `qemu:///system` for local).

import { UsageError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import { portProblem } from "./host-port.ts";

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
  // Escaped as a whole: the spec, and the parts of it quoted in `why`, are whatever was typed.
  return new UsageError(escapePeerText(`bad --hypervisor "${spec}": ${why}`, 400), { hint: `--hypervisor takes ${FORMS}` });
}

function parsePort(spec: string, text: string): number {
  const port = portProblem(text, 1);
  if (typeof port === "string") throw bad(spec, port);
  return port;
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

/**
 * Replaces everything between `://` and the last `@` with `<redacted>`.
 * @example redactUserInfo("ssh://alice:p@ss@hv1") // "ssh://<redacted>@hv1"
 */
export function redactUserInfo(uri: string): string {
  const start = uri.indexOf("://");
  const at = uri.lastIndexOf("@");
  if (start === -1 || at < start + 3) return uri;
  return `${uri.slice(0, start + 3)}<redacted>${uri.slice(at)}`;
}

function parseUri(given: string): HypervisorOverride {
  // Never echo the URI's user part back: it may hold a password, itself holding ":", "/" or "@",
  // so everything between "://" and the last "@" goes.
  const spec = redactUserInfo(given);
  // Decided on the text, not on what URL parsing makes of it: a damaged URI may move the
  // password into the host or path, where a later message would quote it.
  const at = given.lastIndexOf("@");
  const start = given.indexOf("://");
  if (at > start && given.slice(start + 3, at).includes(":")) throw bad(spec, "passwords do not belong on the command line");
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
  if (url.username !== "") {
    try {
      out.username = decodeURIComponent(url.username);
    } catch {
      throw bad(spec, "the user name has a malformed %-escape");
    }
  }
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
    const user = spec.slice(0, at);
    // `alice:S3cret@hv1`: the part after ":" is a password; it is neither used nor shown.
    if (user.includes(":")) {
      throw new UsageError(`bad --hypervisor "<redacted>${spec.slice(at)}": a user name cannot contain ":" (a password does not belong on the command line)`, {
        hint: "log in with a key or the agent (ssh_private_key, ssh_use_agent), or set password in the config file",
      });
    }
    out.username = user;
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
