// Turns known_hosts entries into the trust anchors of one host and port, with OpenSSH's
// bare-host fallback for non-22 ports; and adds up anchors from several sources.

import type { SourcedKey, TrustAnchors } from "./types.ts";
import type { KnownHostsEntry, ParsedKnownHosts } from "./known-hosts-parse.ts";
import { entryMatchesHost, knownHostsName } from "./host-match.ts";
import { TRUSTABLE_KEY_TYPES } from "./_family.ts";

/**
 * The keys known_hosts trusts, revokes and names as CAs for `host` on `port`.
 *
 * For a port other than 22 the entries under `[host]:port` count; only when there is no entry
 * there at all are the bare host's entries used, as OpenSSH 9 does (measured: any key under
 * `[host]:port` makes a bare-host key of another type a CHANGED key, never a fallback).
 * Pass every known_hosts entry of the hop in one call
 * (inline entries and the file together) so that fallback sees them all. `@revoked` lines
 * apply when they name either form. Parse warnings, when given, are carried through.
 * @example anchorsFromKnownHosts(parseKnownHosts(text, path), "127.0.0.1", 2222)
 */
export function anchorsFromKnownHosts(
  input: KnownHostsEntry[] | ParsedKnownHosts,
  host: string,
  port: number,
): TrustAnchors {
  const entries = Array.isArray(input) ? input : input.entries;
  const warnings = Array.isArray(input) ? [] : [...input.warnings];
  const names = port === 22 ? [host] : [knownHostsName(host, port), host];
  const matchesAny = (entry: KnownHostsEntry) => names.some((name) => entryMatchesHost(entry, name));

  const plain = entries.filter((entry) => entry.marker === undefined);
  const primary = plain.filter((entry) => entryMatchesHost(entry, names[0]!));
  const fallback = port === 22 || primary.length > 0
    ? []
    : plain.filter((entry) => entryMatchesHost(entry, host));
  const trusted = [...primary, ...fallback];

  for (const entry of trusted) {
    if (!TRUSTABLE_KEY_TYPES.has(entry.key.type)) {
      warnings.push(`${entry.source}: ${entry.key.type} keys are not supported for host keys; entry not used`);
    }
  }
  const certAuthorities = entries.filter((entry) => entry.marker === "cert-authority" && matchesAny(entry));

  return {
    keys: trusted.map(sourced),
    revoked: entries.filter((entry) => entry.marker === "revoked" && matchesAny(entry)).map(sourced),
    fingerprints: [],
    certAuthorities: certAuthorities.map(sourced),
    warnings,
  };
}

/**
 * Adds up anchors from several sources (known_hosts entries, a file, SSHFP).
 * @example mergeAnchors(fromConfig, fromFile, fromSshfp)
 */
export function mergeAnchors(...anchors: TrustAnchors[]): TrustAnchors {
  return {
    keys: anchors.flatMap((a) => a.keys),
    revoked: anchors.flatMap((a) => a.revoked),
    fingerprints: anchors.flatMap((a) => a.fingerprints),
    certAuthorities: anchors.flatMap((a) => a.certAuthorities),
    warnings: [...new Set(anchors.flatMap((a) => a.warnings))],
  };
}

function sourced(entry: KnownHostsEntry): SourcedKey {
  return { key: entry.key, source: entry.source };
}
