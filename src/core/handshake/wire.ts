// Bounds-checked reader for the SSH wire encoding (RFC 4251 §5) of cleartext transport
// messages; every malformed field throws a ProtocolViolation the inspector turns into a refusal.

/** The peer broke the transport protocol; `message` says how. */
export class ProtocolViolation extends Error {}

/** Reads one message payload field by field; never reads past its end. */
export class PayloadReader {
  #offset = 0;
  constructor(private readonly buf: Buffer) {}

  byte(): number {
    this.#need(1);
    return this.buf[this.#offset++]!;
  }

  boolean(): boolean {
    return this.byte() !== 0;
  }

  uint32(): number {
    this.#need(4);
    const v = this.buf.readUInt32BE(this.#offset);
    this.#offset += 4;
    return v;
  }

  raw(n: number): Buffer {
    this.#need(n);
    const out = this.buf.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }

  /** A `string`: uint32 length, then that many bytes. */
  string(): Buffer {
    return this.raw(this.uint32());
  }

  /** A `name-list`: comma-separated US-ASCII names, none empty (RFC 4251 §5). */
  nameList(): string[] {
    const raw = this.string();
    if (raw.length === 0) return [];
    for (const b of raw) if (b < 0x21 || b > 0x7e) throw new ProtocolViolation("a name-list holds a non-printable character");
    const names = raw.toString("latin1").split(",");
    if (names.some((n) => n.length === 0)) throw new ProtocolViolation("a name-list holds an empty name");
    return names;
  }

  #need(n: number): void {
    if (this.#offset + n > this.buf.length) throw new ProtocolViolation("a message ends in the middle of a field");
  }
}
