// Parses the `dns_resolver` attribute (`IPv4:PORT`, `[IPv6]:PORT`, `[fe80::1%eth0]:PORT`) into
// an address to dial; a resolver is always an IP literal, so looking it up never needs DNS.

import { isIPv4, isIPv6 } from "node:net";
import { ConfigError } from "../errors.ts";
import { formatHostPort, hostPortProblem } from "../config/host-port.ts";

/** A DNS resolver's address, ready for `net.connect`. */
export interface ResolverAddress {
  /** IP literal without brackets; an IPv6 zone stays attached (`fe80::1%eth0`). */
  host: string;
  port: number;
  family: 4 | 6;
}

/** What `dns_resolver` accepts, for error messages and hints. */
export const RESOLVER_ADDRESS_FORMS =
  "IPv4:PORT (127.0.0.1:53), [IPv6]:PORT ([::1]:53) or [IPv6%ZONE]:PORT ([fe80::1%eth0]:53)";

/**
 * Parses a `dns_resolver` string; throws ConfigError naming the accepted forms otherwise.
 * @example parseResolverAddress("[fe80::1%eth0]:853") // { host: "fe80::1%eth0", port: 853, family: 6 }
 */
export function parseResolverAddress(text: string): ResolverAddress {
  const problem = resolverAddressProblem(text);
  if (typeof problem === "string") {
    throw new ConfigError(`malformed dns_resolver "${text}": ${problem}; accepted: ${RESOLVER_ADDRESS_FORMS}`, [], {
      hint: `write the resolver as ${RESOLVER_ADDRESS_FORMS}`,
    });
  }
  return problem;
}

/**
 * The parsed address, or a short reason it is not one (for validators that collect problems).
 * @example resolverAddressProblem("localhost:53") // "the host must be an IP address"
 */
export function resolverAddressProblem(text: string): ResolverAddress | string {
  const bracketed = text.startsWith("[");
  if (bracketed && !/^\[[^\]]*\]:[^:]*$/.test(text)) return "a bracketed IPv6 address must be followed by :PORT";
  const address = hostPortProblem(text, 1);
  if (typeof address === "string") return address;
  if (!bracketed) return isIPv4(address.host) ? { ...address, family: 4 } : "the host must be an IP address";
  const percent = address.host.indexOf("%");
  const bare = percent === -1 ? address.host : address.host.slice(0, percent);
  const zone = percent === -1 ? undefined : address.host.slice(percent + 1);
  if (!isIPv6(bare)) return `"${address.host}" is not an IPv6 address`;
  if (zone !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(zone)) return `"${zone}" is not a valid IPv6 zone`;
  return { ...address, family: 6 };
}

/**
 * The address as users write it, for messages and fingerprint sources.
 * @example formatResolverAddress({ host: "::1", port: 53, family: 6 }) // "[::1]:53"
 */
export function formatResolverAddress(address: ResolverAddress): string {
  return formatHostPort(address);
}
