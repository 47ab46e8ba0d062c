// Quotes one argument for the POSIX shell that sshd runs commands through, so nothing in a
// target string (domain names, socket paths) can inject shell syntax on the hypervisor.

/**
 * @example shellQuote("web1") === "web1"; shellQuote("a b'c") === "'a b'\\''c'"
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
