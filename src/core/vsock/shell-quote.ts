// Quotes one argument for the shell that sshd runs commands through (the user's login shell),
// so nothing in a target string (domain names, socket paths) can inject shell syntax there.
//
// Single quotes are literal in sh, bash and zsh, but fish reads `\'` and `\\` inside them as
// escapes, so an argument ending in `\` closes no quote in fish. No spelling is safe in every
// shell for a backslash or a single quote, so both are refused before anything is sent.

import { UsageError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";

/**
 * @example shellQuote("web1") === "web1"; shellQuote("a b$c") === "'a b$c'"; shellQuote("it's") throws UsageError
 */
export function shellQuote(arg: string): string {
  if (/['\\]/.test(arg)) {
    throw new UsageError(`cannot pass ${escapePeerText(JSON.stringify(arg), 120)} to a shell: it contains "'" or "\\"`, {
      hint: "no quoting is safe for those in every login shell (fish reads \\' inside quotes); rename the domain, socket or command",
    });
  }
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg}'`;
}
