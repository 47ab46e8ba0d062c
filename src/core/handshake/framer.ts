// Splits one direction of a cleartext SSH transport into what RFC 4253 sends first: text lines
// up to the identification line (§4.2), then binary packets without MAC (§6), one at a time.
import { ProtocolViolation } from "./wire.ts";

/** RFC 4253 §6.1: every implementation must accept packets of 35000 bytes; we accept no more. */
export const MAX_PACKET_BYTES = 35000;
/** §4.2 caps the identification line at 255 characters with CR LF; other lines get more room. */
const MAX_IDENT_LINE = 255;
const MAX_OTHER_LINE = 1024;
/** OpenSSH's client stops after this many lines before the identification line. */
const MAX_PRE_IDENT_LINES = 1024;

export type FramedItem =
  /** A line before the identification line (servers only), or the identification line itself. */
  | { kind: "line"; text: string; ident: boolean; raw: Buffer }
  /** One binary packet: `type` is the first payload byte. */
  | { kind: "packet"; type: number; payload: Buffer; raw: Buffer };

/**
 * Incremental framer for one direction. `push` adds bytes, `next` takes one complete item at a
 * time: the caller stops pulling where the cleartext ends (after NEWKEYS the rest is encrypted
 * and must not be read as packets). Memory held is one chunk plus at most one partial item.
 */
export class TransportFramer {
  #buf: Buffer = Buffer.alloc(0);
  #identSeen = false;
  #lines = 0;
  /** Servers may send other lines first; a client's first line must be its identification. */
  constructor(private readonly allowPreIdentLines: boolean) {}

  /** Bytes received but not yet part of a complete item (never more than one packet). */
  get buffered(): number {
    return this.#buf.length;
  }

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
  }

  /** The next complete item, or undefined until more bytes arrive; throws ProtocolViolation. */
  next(): FramedItem | undefined {
    return this.#identSeen ? this.#packet() : this.#line();
  }

  /** Bytes after the last complete item; the caller takes them over (and the framer forgets them). */
  takeRest(): Buffer {
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    return rest;
  }

  #line(): FramedItem | undefined {
    const nl = this.#buf.indexOf(0x0a);
    const limit = this.#buf.subarray(0, 4).toString("latin1") === "SSH-" ? MAX_IDENT_LINE : MAX_OTHER_LINE;
    if (nl < 0) {
      if (this.#buf.length >= limit) throw new ProtocolViolation(`a line before the SSH identification exceeds ${limit} bytes`);
      return undefined;
    }
    if (nl + 1 > limit) throw new ProtocolViolation(`a line before the SSH identification exceeds ${limit} bytes`);
    const raw = this.#buf.subarray(0, nl + 1);
    this.#buf = this.#buf.subarray(nl + 1);
    // CR LF is the rule; a bare LF is tolerated, as OpenSSH does.
    const text = raw.toString("latin1").replace(/\r?\n$/, "");
    if (text.startsWith("SSH-")) {
      // RFC 4253 keeps `-` and spaces out of softwareversion; servers differ, so only the
      // protocol version and printable ASCII are required, as OpenSSH does.
      if (!/^SSH-(2\.0|1\.99)-[\x20-\x7e]+$/.test(text)) {
        throw new ProtocolViolation(`unsupported or malformed SSH identification line`);
      }
      this.#identSeen = true;
      return { kind: "line", text, ident: true, raw };
    }
    if (!this.allowPreIdentLines) throw new ProtocolViolation("the client did not start with an SSH identification line");
    if (/\0/.test(text)) throw new ProtocolViolation("a line before the SSH identification holds a NUL byte");
    if (++this.#lines > MAX_PRE_IDENT_LINES) throw new ProtocolViolation(`more than ${MAX_PRE_IDENT_LINES} lines before the SSH identification`);
    return { kind: "line", text, ident: false, raw };
  }

  #packet(): FramedItem | undefined {
    if (this.#buf.length < 4) return undefined;
    const length = this.#buf.readUInt32BE(0);
    if (length + 4 > MAX_PACKET_BYTES) throw new ProtocolViolation(`a packet of ${length + 4} bytes exceeds the ${MAX_PACKET_BYTES}-byte limit`);
    if (length < 6) throw new ProtocolViolation(`a packet of ${length + 4} bytes is too short`);
    if (this.#buf.length < 4 + length) return undefined;
    const raw = this.#buf.subarray(0, 4 + length);
    this.#buf = this.#buf.subarray(4 + length);
    const padding = raw[4]!;
    if (padding < 4 || padding > length - 2) throw new ProtocolViolation(`a packet has an invalid padding length (${padding})`);
    const payload = raw.subarray(5, 4 + length - padding);
    return { kind: "packet", type: payload[0]!, payload, raw };
  }
}
