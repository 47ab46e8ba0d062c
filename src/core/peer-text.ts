// Makes text that came from a peer (disconnect messages, identification lines, banners) safe
// to print: control characters are escaped, so a hostile server cannot drive the terminal.

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Escapes control and bidi characters as `\xNN` / `\uNNNN` and caps the length.
 * @example escapePeerText("bye\u001b[2J") // "bye\\x1b[2J"
 */
export function escapePeerText(text: string, max = 200): string {
  const escaped = text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
