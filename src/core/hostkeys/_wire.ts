// Minimal reader for the SSH wire encoding (RFC 4251 §5) and strict base64, shared by the key
// and known_hosts parsers. Private to src/core/hostkeys.

/** Reads length-prefixed fields from a key blob; every read throws on truncation. */
export class WireReader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}

  /** Next `string` field as raw bytes. */
  bytes(): Buffer {
    if (this.offset + 4 > this.buf.length) throw new Error("truncated length field");
    const len = this.buf.readUInt32BE(this.offset);
    const start = this.offset + 4;
    if (start + len > this.buf.length) throw new Error("field runs past the end of the blob");
    this.offset = start + len;
    return this.buf.subarray(start, start + len);
  }

  /** Next `string` field decoded as ASCII text (key type names, curve names). */
  text(): string {
    const raw = this.bytes();
    for (const byte of raw) {
      if (byte < 0x21 || byte > 0x7e) throw new Error("non-printable key type name");
    }
    return raw.toString("latin1");
  }

  /** Next `uint32` field. */
  uint32(): number {
    if (this.offset + 4 > this.buf.length) throw new Error("truncated uint32 field");
    const value = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** Next `uint64` field. */
  uint64(): bigint {
    if (this.offset + 8 > this.buf.length) throw new Error("truncated uint64 field");
    const value = this.buf.readBigUInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  /** Bytes consumed so far (where the next field starts). */
  get position(): number {
    return this.offset;
  }

  /** True when every byte of the blob has been consumed. */
  get done(): boolean {
    return this.offset === this.buf.length;
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Decodes base64 only if it is canonical, so typos are reported instead of silently dropped
 * (Node's decoder skips characters it does not know). Returns undefined when malformed.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64.test(text) || text.length % 4 !== 0) return undefined;
  const decoded = Buffer.from(text, "base64");
  return decoded.toString("base64") === text ? decoded : undefined;
}
