// Test-side SSH wire helpers, written apart from src/core/handshake so they can judge it: find
// the key exchange reply and K_S in recorded bytes, and craft identification lines and packets.

/** One chunk as the relay saw it pass, tagged with who sent it. */
export interface Chunk {
  from: "client" | "server";
  data: Buffer;
}

/** All bytes one side sent, in order. */
export const bytesFrom = (chunks: Chunk[], from: Chunk["from"]) => Buffer.concat(chunks.filter((c) => c.from === from).map((c) => c.data));

export interface WireItem {
  /** A text line (identification included) or a binary packet (message type `type`). */
  kind: "line" | "packet";
  type: number;
  /** Offsets of the item in the direction's bytes. */
  start: number;
  end: number;
}

/** The cleartext items of one direction: lines up to `SSH-`, then packets up to NEWKEYS (21). */
export function cleartextItems(bytes: Buffer): WireItem[] {
  const items: WireItem[] = [];
  let at = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) return items;
    items.push({ kind: "line", type: -1, start: at, end: nl + 1 });
    const ident = bytes.subarray(at, at + 4).toString("latin1") === "SSH-";
    at = nl + 1;
    if (ident) break;
  }
  while (at + 5 <= bytes.length) {
    const end = at + 4 + bytes.readUInt32BE(at);
    if (end > bytes.length) break;
    const type = bytes[at + 5]!;
    items.push({ kind: "packet", type, start: at, end });
    at = end;
    if (type === 21) break;
  }
  return items;
}

export interface ReplyLocation {
  /** The whole packet carrying K_S, offsets in the server's bytes. */
  start: number;
  end: number;
  /** The K_S blob itself. */
  ksStart: number;
  ksEnd: number;
  ks: Buffer;
  packet: Buffer;
}

/** Where the server's key exchange reply (31, or 33 for group exchange) is; throws if absent. */
export function findReply(rec: { chunks: Chunk[]; kex: string }): ReplyLocation {
  const bytes = bytesFrom(rec.chunks, "server");
  const type = rec.kex.startsWith("diffie-hellman-group-exchange-") ? 33 : 31;
  const item = cleartextItems(bytes).find((i) => i.kind === "packet" && i.type === type);
  if (!item) throw new Error(`no message ${type} in the server's cleartext`);
  const ksStart = item.start + 6 + 4;
  const ksEnd = ksStart + bytes.readUInt32BE(item.start + 6);
  return { start: item.start, end: item.end, ksStart, ksEnd, ks: bytes.subarray(ksStart, ksEnd), packet: bytes.subarray(item.start, item.end) };
}

/** An SSH `string`. */
export const str = (s: string | Buffer) => {
  const b = typeof s === "string" ? Buffer.from(s, "latin1") : s;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};
export const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** A cleartext binary packet around `payload`, padded to 8 bytes with at least 4 (RFC 4253 §6). */
export function packet(payload: Buffer): Buffer {
  let pad = 8 - ((5 + payload.length) % 8);
  if (pad < 4) pad += 8;
  return Buffer.concat([u32(1 + payload.length + pad), Buffer.from([pad]), payload, Buffer.alloc(pad, 0x5a)]);
}

/** A KEXINIT payload offering `kex` and `hostKey` (other lists are plausible defaults). */
export function kexinit(kex: string[], hostKey: string[], follows = false): Buffer {
  const lists = [kex, hostKey, ["aes128-ctr"], ["aes128-ctr"], ["hmac-sha2-256"], ["hmac-sha2-256"], ["none"], ["none"], [], []];
  return Buffer.concat([Buffer.from([20]), Buffer.alloc(16, 7), ...lists.map((l) => str(l.join(","))), Buffer.from([follows ? 1 : 0]), u32(0)]);
}

/** A reply (type 31 or 33) whose K_S is `ks`; the rest is filler the inspector must not care about. */
export const replyPayload = (ks: Buffer, type = 31) => Buffer.concat([Buffer.from([type]), str(ks), str(Buffer.alloc(32, 1)), str(Buffer.alloc(83, 2))]);
export const disconnectPayload = (reason: number, text: string) => Buffer.concat([Buffer.from([1]), u32(reason), str(Buffer.from(text, "utf8")), str("")]);
export const ignorePayload = (data: string) => Buffer.concat([Buffer.from([2]), str(data)]);
export const debugPayload = (text: string) => Buffer.concat([Buffer.from([4, 1]), str(text), str("")]);

/** A fabricated handshake (no real server): both identifications and KEXINITs, then the reply. */
export function craftedHandshake(opts: {
  ks: Buffer;
  kex?: string;
  hostKey?: string;
  serverFollows?: boolean;
  beforeReply?: Buffer[];
  replyType?: number;
}): Chunk[] {
  const kex = opts.kex ?? "curve25519-sha256";
  const hostKey = opts.hostKey ?? "ssh-ed25519";
  return [
    { from: "server", data: Buffer.from("SSH-2.0-OpenSSH_9.9 fake\r\n") },
    { from: "client", data: Buffer.from("SSH-2.0-OpenSSH_9.9\r\n") },
    { from: "server", data: packet(kexinit([kex, "kex-strict-s-v00@openssh.com"], [hostKey], opts.serverFollows)) },
    { from: "client", data: packet(kexinit([kex, "ext-info-c"], [hostKey])) },
    { from: "client", data: packet(Buffer.concat([Buffer.from([30]), str(Buffer.alloc(32, 9))])) },
    ...(opts.beforeReply ?? []).map((data) => ({ from: "server" as const, data })),
    { from: "server", data: packet(replyPayload(opts.ks, opts.replyType ?? 31)) },
    { from: "server", data: packet(Buffer.from([21])) },
  ];
}

/** mulberry32: a tiny seeded PRNG, so every fuzz failure can be replayed from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
