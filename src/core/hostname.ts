// The one check for a host name that ssh2vsock writes where another program parses it
// (known_hosts lines, SSHFP zone lines, ssh_config's HostKeyAlias) or reads it from the config.
//
// In those formats a host field is syntax: `,` separates patterns, `*` `?` are wildcards, `!`
// negates, whitespace ends the field, a newline starts a new line (`@revoked *`, another
// `ProxyCommand`), and a leading `|`, `@` or `#` makes a hashed name, a marker or a comment. So
// only plain names pass: a DNS name, an IP literal, `[host]:port` where the caller allows it,
// and ssh2vsock's own target spellings (`vsock/3`, `qemu/web3`), which OpenSSH hands over as %h.

import { isIP } from "node:net";
import { UsageError } from "./errors.ts";
import { escapePeerText } from "./peer-text.ts";

/** Which forms besides a DNS name and an IP literal are accepted. */
export interface HostNameAllow {
  /** `[host]:port` (a known_hosts name for a port other than 22). */
  port?: boolean;
  /** A target spelling such as `vsock/3` or `unix/run/vm.sock`, used as its own host name. */
  target?: boolean;
}

// Letters, digits, `_` and `-`, not starting with `-` (it would read as an option), 1 … 63 long.
const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}$/;
// The ad-hoc target forms; the rest keeps to characters that mean nothing in the formats above.
const TARGET = /^(?:vsock-mux|vsock|unix|qemu(?::system|:session|-system|-session)?)[/%][A-Za-z0-9._/%:+=~@-]+$/;
const PATTERN = /[,*?!]/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** True for a DNS name: dot-separated labels, at most 253 characters, an optional final dot. */
export function isDnsName(text: string): boolean {
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  return name.length > 0 && name.length <= 253 && name.split(".").every((l) => LABEL.test(l));
}

function isHost(text: string): boolean {
  return isDnsName(text) || isIP(text) !== 0;
}

/**
 * Why `text` is not an acceptable host name, or undefined when it is. The reason never quotes
 * the text, so it is safe to print whatever the text holds.
 * @example hostNameProblem("web1,*") // "a host name cannot contain \",\", \"*\", \"?\" or \"!\": that makes it a pattern"
 * @example hostNameProblem("[web1]:2222", { port: true }) // undefined
 */
export function hostNameProblem(text: string, allow: HostNameAllow = {}): string | undefined {
  if (text === "") return "empty";
  if (CONTROL.test(text)) return "a host name cannot contain a control character (a newline would start another line)";
  if (/\s/.test(text)) return "a host name cannot contain whitespace";
  if (PATTERN.test(text)) return 'a host name cannot contain ",", "*", "?" or "!": that makes it a pattern';
  if (isHost(text)) return undefined;
  const bracketed = /^\[([^\]]*)\]:([0-9]{1,5})$/.exec(text);
  if (bracketed && allow.port) {
    if (!isHost(bracketed[1]!)) return "not a host name: [host]:port needs a DNS name or an IP address inside the brackets";
    const port = Number(bracketed[2]);
    if (port < 1 || port > 65535) return `port ${port} is outside 1 … 65535`;
    return undefined;
  }
  if (allow.target && TARGET.test(text)) return undefined;
  return "not a host name";
}

/**
 * The forms `allow` accepts, for messages.
 * @example hostNameForms({ port: true }) // "a DNS name, an IP address or [host]:port"
 */
export function hostNameForms(allow: HostNameAllow = {}): string {
  const forms = ["a DNS name", "an IP address", ...(allow.port ? ["[host]:port"] : []), ...(allow.target ? ["a target such as vsock/3"] : [])];
  return `${forms.slice(0, -1).join(", ")} or ${forms.at(-1)}`;
}

/**
 * Returns `text` when hostNameProblem accepts it; otherwise throws UsageError (exit 2) naming
 * `what` (the argument or attribute) and showing the text with control characters escaped.
 * @example checkHostName("web1.example.com", "HOSTNAME") // "web1.example.com"
 */
export function checkHostName(text: string, what: string, allow: HostNameAllow = {}): string {
  const problem = hostNameProblem(text, allow);
  if (problem === undefined) return text;
  throw new UsageError(`${what} ${escapePeerText(JSON.stringify(text), 80)}: ${problem}; expected ${hostNameForms(allow)}`, {
    hint: "give one host; the only patterns ssh2vsock writes are known-hosts --cert-authority's",
  });
}

/**
 * Why `pattern` cannot be written as a known_hosts host-pattern list (for `@cert-authority`
 * lines, the one place ssh2vsock writes patterns), or undefined when it can. Wildcards, `!`
 * and commas are the point of a pattern; whitespace and control characters would end the
 * field or the line, and empty items or a leading `#`, `@` or `|` change what the line is.
 * @example hostPatternProblem("*.example.com,!bad.example.com") // undefined
 */
export function hostPatternProblem(pattern: string): string | undefined {
  if (pattern === "") return "empty";
  if (CONTROL.test(pattern)) return "a pattern cannot contain a control character (a newline would start another line)";
  if (/\s/.test(pattern)) return "a pattern cannot contain whitespace";
  if (/^[#@|]/.test(pattern)) return 'a pattern cannot start with "#", "@" or "|" (a comment, a marker or a hashed name)';
  if (pattern.split(",").some((p) => p === "" || p === "!")) return "empty item in the pattern list";
  return undefined;
}

/** Returns `pattern` when hostPatternProblem accepts it; otherwise throws UsageError (exit 2). */
export function checkHostPattern(pattern: string, what: string): string {
  const problem = hostPatternProblem(pattern);
  if (problem === undefined) return pattern;
  throw new UsageError(`${what} ${escapePeerText(JSON.stringify(pattern), 80)}: ${problem}`, {
    hint: 'a pattern is host names and wildcards separated by commas, such as "*.example.com,!bad.example.com"',
  });
}
