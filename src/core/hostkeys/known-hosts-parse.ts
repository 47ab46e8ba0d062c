// Reads known_hosts text into entries exactly as OpenSSH does (markers, patterns, hashed names,
// key type + base64 + comment); a bad line becomes a warning with source:line, never an abort.

import type { PublicKey } from "./types.ts";
import { decodeBase64Strict } from "./_wire.ts";
import { HASH_MAGIC, HASH_SIZE } from "./_hash.ts";
import { decodePublicKey } from "./keys.ts";

/** One comma-separated element of a host field: `web*`, `!bad.example.com`, `[h]:2222`. */
export interface HostPattern {
  /** Lower-cased pattern without its `!`. */
  pattern: string;
  negated: boolean;
}

/** A host field: a pattern list, or one hashed name (`|1|salt|hmac`). */
export type HostField =
  | { kind: "patterns"; patterns: HostPattern[] }
  | { kind: "hashed"; salt: Buffer; hmac: Buffer };

/** One usable known_hosts line. */
export interface KnownHostsEntry {
  /** `@revoked` or `@cert-authority`; absent for a plain line. */
  marker?: "revoked" | "cert-authority";
  hosts: HostField;
  key: PublicKey;
  comment?: string;
  /** `<source>:<line>`, e.g. `/home/u/.ssh/known_hosts:12`. */
  source: string;
}

/** Entries in file order plus a warning for every line that was skipped. */
export interface ParsedKnownHosts {
  entries: KnownHostsEntry[];
  warnings: string[];
}

/**
 * Parses known_hosts text. `source` names where it came from (a path, or a config attribute
 * path for inline entries); each entry and warning is located as `<source>:<line>`.
 * @example parseKnownHosts("web1 ssh-ed25519 AAAA…\n", "known_hosts").entries[0].source // "known_hosts:1"
 */
export function parseKnownHosts(text: string, source: string): ParsedKnownHosts {
  const entries: KnownHostsEntry[] = [];
  const warnings: string[] = [];
  text.split("\n").forEach((rawLine, index) => {
    const where = `${source}:${index + 1}`;
    const result = parseLine(rawLine.replace(/\r$/, ""));
    if (result === undefined) return;
    if (typeof result === "string") warnings.push(`${where}: ${result}`);
    else entries.push({ ...result, source: where });
  });
  return { entries, warnings };
}

type LineResult = Omit<KnownHostsEntry, "source"> | string | undefined;

// Returns undefined for blank and comment lines, a reason string for a bad line.
function parseLine(line: string): LineResult {
  const fields = line.trim().split(/[ \t]+/);
  if (fields[0] === "" || fields[0]!.startsWith("#")) return undefined;

  let marker: KnownHostsEntry["marker"];
  if (fields[0]!.startsWith("@")) {
    const word = fields.shift()!;
    if (word === "@revoked") marker = "revoked";
    else if (word === "@cert-authority") marker = "cert-authority";
    else return `unknown marker "${word}" (expected @revoked or @cert-authority)`;
  }

  const [hostText, type, base64] = fields;
  if (hostText === undefined || type === undefined || type.startsWith("#")) {
    return "line ends before the key type";
  }
  if (base64 === undefined || base64.startsWith("#")) return `line ends after key type ${type}`;
  if (/^\d+$/.test(type)) return "SSH protocol 1 RSA key (bits exponent modulus) is not supported";

  const hosts = parseHostField(hostText);
  if (typeof hosts === "string") return hosts;

  let key: PublicKey;
  try {
    key = decodePublicKey(type, base64);
  } catch (error) {
    return (error as Error).message;
  }
  const comment = fields.slice(3).join(" ");
  return comment ? { marker, hosts, key, comment } : { marker, hosts, key };
}

function parseHostField(text: string): HostField | string {
  // As in OpenSSH, a field that starts with `|` is one hashed name, never a list.
  if (text.startsWith("|")) {
    if (!text.startsWith(HASH_MAGIC)) return `unsupported host hash "${preview(text)}" (expected |1|salt|hmac)`;
    const parts = text.slice(HASH_MAGIC.length).split("|");
    const salt = parts.length === 2 ? decodeBase64Strict(parts[0]!) : undefined;
    const hmac = parts.length === 2 ? decodeBase64Strict(parts[1]!) : undefined;
    if (salt?.length !== HASH_SIZE || hmac?.length !== HASH_SIZE) {
      return `bad host hash "${preview(text)}" (expected |1|base64 salt|base64 HMAC-SHA1)`;
    }
    return { kind: "hashed", salt, hmac };
  }
  const patterns = text.split(",").map((element) => {
    const negated = element.startsWith("!");
    return { pattern: (negated ? element.slice(1) : element).toLowerCase(), negated };
  });
  return { kind: "patterns", patterns };
}

function preview(text: string): string {
  return text.length > 32 ? `${text.slice(0, 32)}…` : text;
}
