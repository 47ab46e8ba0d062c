// Decides whether a known_hosts host field names a host, with OpenSSH's rules: lower-cased
// names, `*`/`?` wildcards, `!` negation that vetoes the whole line, and hashed names.

import { timingSafeEqual } from "node:crypto";
import { hostNameHmac } from "./_hash.ts";
import type { HostField, KnownHostsEntry } from "./known-hosts-parse.ts";

/**
 * The name OpenSSH looks a host up under: the host for port 22, `[host]:port` otherwise.
 * @example knownHostsName("127.0.0.1", 2222) // "[127.0.0.1]:2222"
 */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * True when the host field names `name` (compared lower-cased). For a pattern list, at least
 * one plain pattern must match and no negated one may (OpenSSH `match_hostname`).
 * @example hostFieldMatches(parsed.hosts, "web1.example.com")
 */
export function hostFieldMatches(field: HostField, name: string): boolean {
  const lower = name.toLowerCase();
  if (field.kind === "hashed") {
    return timingSafeEqual(hostNameHmac(field.salt, lower), field.hmac);
  }
  let matched = false;
  for (const { pattern, negated } of field.patterns) {
    if (!wildcardMatch(lower, pattern)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** True when the entry's host field names `name`. */
export function entryMatchesHost(entry: KnownHostsEntry, name: string): boolean {
  return hostFieldMatches(entry.hosts, name);
}

/**
 * Glob match over the whole string: `*` any run of characters (also none), `?` exactly one.
 * @example wildcardMatch("web1.example.com", "web?.*.com") // true
 */
export function wildcardMatch(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  // Position of the last `*` seen and the text position it is currently standing in for.
  let star = -1;
  let starText = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      t++;
      p++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      starText = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}
