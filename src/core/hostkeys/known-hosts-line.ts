// Generates known_hosts text (pure: key in, line out); where the line goes is the caller's
// business. Hashed names are what `ssh-keygen -H` writes and `ssh-keygen -F` finds.

import { randomBytes } from "node:crypto";
import { UsageError } from "../errors.ts";
import { checkHostName, checkHostPattern } from "../hostname.ts";
import type { PublicKey } from "./types.ts";
import { HASH_MAGIC, HASH_SIZE, hostNameHmac } from "./_hash.ts";
import { knownHostsName } from "./host-match.ts";
import { publicKeyText } from "./keys.ts";

/**
 * Hashes a host name (lower-cased first, as OpenSSH looks names up) into `|1|salt|hmac`.
 * A random 20-byte salt is used unless one is given.
 * @example hashHostName("[web1.example.com]:2222") // "|1|q3J…=|T0v…="
 */
export function hashHostName(name: string, salt: Buffer = randomBytes(HASH_SIZE)): string {
  const hmac = hostNameHmac(salt, name.toLowerCase());
  return `${HASH_MAGIC}${salt.toString("base64")}|${hmac.toString("base64")}`;
}

// The name OpenSSH looks `host` up under. `host` may already be `[host]:port`; a second port
// beside it is ambiguous. `[host]:22` is written bare, as OpenSSH itself does.
function lookupName(host: string, port: number | undefined): string {
  const bracketed = /^\[(.*)\]:([0-9]+)$/.exec(host);
  if (!bracketed) return knownHostsName(host, port ?? 22);
  if (port !== undefined && port !== 22 && port !== Number(bracketed[2])) {
    throw new UsageError(`"${host}" already names port ${bracketed[2]}, and --port says ${port}`, { hint: "give the port once" });
  }
  return knownHostsName(bracketed[1]!, Number(bracketed[2]));
}

/**
 * One known_hosts line for `key` on `host` (written `[host]:port` when the port is not 22),
 * optionally with a hashed host name and a trailing comment. `host` must be one host (a name,
 * an IP literal, `[host]:port` or a target spelling such as `vsock/3`): a pattern or a newline
 * would make the line trust other hosts, so it is a UsageError.
 * @example knownHostsLine(key, "web1.example.com", { port: 2222 }) // "[web1.example.com]:2222 ssh-ed25519 AAAA…"
 */
export function knownHostsLine(
  key: PublicKey,
  host: string,
  opts: { port?: number; hash?: boolean; comment?: string } = {},
): string {
  checkHostName(host, "host name", { port: true, target: true });
  const name = lookupName(host.toLowerCase(), opts.port);
  const hostField = opts.hash ? hashHostName(name) : name;
  const comment = opts.comment?.replace(/[\r\n]+/g, " ").trim();
  return `${hostField} ${publicKeyText(key)}${comment ? ` ${comment}` : ""}`;
}

/**
 * The `@cert-authority PATTERN KEY` line that trusts host certificates signed by `key` for the
 * hosts `pattern` names. Patterns are never hashed (OpenSSH hashes names, not patterns).
 * @example certAuthorityLine(caKey, "*.example.com") // "@cert-authority *.example.com ssh-ed25519 AAAA…"
 */
export function certAuthorityLine(key: PublicKey, pattern: string): string {
  checkHostPattern(pattern, "pattern");
  return `@cert-authority ${pattern.toLowerCase()} ${publicKeyText(key)}`;
}
