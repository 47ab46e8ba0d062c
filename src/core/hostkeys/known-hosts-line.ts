// Generates known_hosts text (pure: key in, line out); where the line goes is the caller's
// business. Hashed names are what `ssh-keygen -H` writes and `ssh-keygen -F` finds.

import { randomBytes } from "node:crypto";
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

/**
 * One known_hosts line for `key` on `host` (written `[host]:port` when the port is not 22),
 * optionally with a hashed host name and a trailing comment.
 * @example knownHostsLine(key, "web1.example.com", { port: 2222 }) // "[web1.example.com]:2222 ssh-ed25519 AAAA…"
 */
export function knownHostsLine(
  key: PublicKey,
  host: string,
  opts: { port?: number; hash?: boolean; comment?: string } = {},
): string {
  const name = knownHostsName(host.toLowerCase(), opts.port ?? 22);
  const hostField = opts.hash ? hashHostName(name) : name;
  const comment = opts.comment?.replace(/[\r\n]+/g, " ").trim();
  return `${hostField} ${publicKeyText(key)}${comment ? ` ${comment}` : ""}`;
}
