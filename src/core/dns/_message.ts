// A strict reader for DNS messages (RFC 1035 §4) that keeps every record's RDATA as raw bytes
// cut by its RDLENGTH, so one odd record can never shift or corrupt the records after it.

/** One resource record; `rdata` is exactly RDLENGTH bytes and is not interpreted here. */
export interface RawRecord {
  /** Owner name, dot-separated, no trailing dot, case preserved. */
  name: string;
  type: number;
  class: number;
  ttl: number;
  rdata: Buffer;
  /** Where `rdata` starts in the message (names inside RDATA may point back into it). */
  rdataOffset: number;
}

export interface RawQuestion {
  name: string;
  type: number;
  class: number;
}

/** A decoded message: header fields, then the four sections. */
export interface RawMessage {
  id: number;
  /** The 16-bit flags word, as on the wire. */
  flags: number;
  qr: boolean;
  opcode: number;
  tc: boolean;
  ad: boolean;
  rcode: number;
  questions: RawQuestion[];
  answers: RawRecord[];
  authorities: RawRecord[];
  additionals: RawRecord[];
}

// RFC 1035 caps a name at 255 octets; the jump limit stops compression-pointer loops.
const MAX_NAME = 255;
const MAX_JUMPS = 64;

/** Decodes one whole message; throws an Error saying what is wrong with it. */
export function decodeMessage(buf: Buffer): RawMessage {
  if (buf.length < 12) throw new Error(`message of ${buf.length} bytes is shorter than a DNS header`);
  const flags = buf.readUInt16BE(2);
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  let offset = 12;
  const questions: RawQuestion[] = [];
  for (let i = 0; i < counts[0]!; i++) {
    const [name, next] = readName(buf, offset);
    need(buf, next, 4, "question");
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    offset = next + 4;
  }
  const sections: RawRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const [name, next] = readName(buf, offset);
      need(buf, next, 10, "record header");
      const rdlength = buf.readUInt16BE(next + 8);
      need(buf, next + 10, rdlength, "record data");
      sections[s]!.push({
        name,
        type: buf.readUInt16BE(next),
        class: buf.readUInt16BE(next + 2),
        ttl: buf.readUInt32BE(next + 4),
        rdata: buf.subarray(next + 10, next + 10 + rdlength),
        rdataOffset: next + 10,
      });
      offset = next + 10 + rdlength;
    }
  }
  if (offset !== buf.length) throw new Error(`${buf.length - offset} unexpected bytes after the last record`);
  return {
    id: buf.readUInt16BE(0),
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    tc: (flags & 0x0200) !== 0,
    ad: (flags & 0x0020) !== 0,
    rcode: flags & 0xf,
    questions,
    answers: sections[0]!,
    authorities: sections[1]!,
    additionals: sections[2]!,
  };
}

function need(buf: Buffer, offset: number, length: number, what: string): void {
  if (offset + length > buf.length) throw new Error(`${what} runs past the end of the message`);
}

/** Reads a possibly compressed name at `start`; returns it and the offset just after it. */
export function readName(buf: Buffer, start: number): [string, number] {
  const labels: string[] = [];
  let offset = start;
  let end = -1;
  let jumps = 0;
  let length = 1;
  for (;;) {
    need(buf, offset, 1, "name");
    const len = buf[offset]!;
    if (len === 0) {
      offset += 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      need(buf, offset, 2, "name pointer");
      if (++jumps > MAX_JUMPS) throw new Error("name compression loops");
      if (end === -1) end = offset + 2;
      offset = buf.readUInt16BE(offset) & 0x3fff;
      continue;
    }
    if (kind !== 0) throw new Error(`unsupported label type 0x${kind.toString(16)}`);
    need(buf, offset + 1, len, "label");
    length += len + 1;
    if (length > MAX_NAME) throw new Error("name longer than 255 octets");
    // Escape what would otherwise read as a label boundary.
    labels.push(buf.toString("latin1", offset + 1, offset + 1 + len).replace(/[\\.]/g, (c) => `\\${c}`));
    offset += len + 1;
  }
  return [labels.join("."), end === -1 ? offset : end];
}
