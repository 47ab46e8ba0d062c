// Makes text that came from a peer (disconnect messages, identification lines, banners, socat's
// and virsh's stderr, a VMM's reply) safe to print: control characters are escaped, so a hostile server cannot drive the terminal.

/** C0 and C1 controls, DEL, line/paragraph separators and the bidi overrides and isolates. */
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

/**
 * Shows raw bytes from a peer in one quoted line: printable ASCII as is, `"` and `\` escaped,
 * CR and LF as `\r` `\n`, every other byte as `\xNN`; at most `limit` bytes, then a count.
 * @example quotePeerBytes(Buffer.from("ERR\x01\n")) // '"ERR\\x01\\n"'
 */
export function quotePeerBytes(data: Uint8Array, limit = 60): string {
  let out = "";
  for (const b of data.subarray(0, limit)) {
    if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return `"${out}"${data.length > limit ? ` (${data.length - limit} more bytes)` : ""}`;
}

/**
 * The last non-empty line of a command's stderr (socat, virsh, the remote shell), trimmed and
 * escaped: the one place such output enters an error message.
 * @example lastPeerLine("socat[9] E connect(…): \x1b[2JNo such device\n") // "socat[9] E connect(…): \\x1b[2JNo such device"
 */
export function lastPeerLine(text: string, max = 300): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return escapePeerText(lines.at(-1) ?? "", max);
}
