// A scripted DNS-over-TCP server on loopback for unit tests: it decodes each framed query and
// replies with whatever bytes the test builds (wrong IDs, no AD, garbage, split chunks, silence).

import { createServer, type Server, type Socket } from "node:net";
import dnsPacket, { type DecodedPacket } from "dns-packet";

export const FLAG_QR = 0x8000;
export const FLAG_RD = 0x0100;
export const FLAG_RA = 0x0080;
export const FLAG_AD = 0x0020;
export const TYPE_SSHFP = 44;
export const TYPE_CNAME = 5;
export const CLASS_IN = 1;

/** One record for buildMessage; `name` defaults to a pointer to the question's name. */
export interface FakeRecord {
  name?: string;
  type: number;
  class?: number;
  ttl?: number;
  rdata: Buffer;
}

export interface FakeMessage {
  id: number;
  /** Header flags without the rcode. Default: QR RD RA AD. */
  flags?: number;
  rcode?: number;
  question?: { name: string; type?: number; class?: number };
  answers?: FakeRecord[];
}

/** Encodes a name without compression. */
export function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, "").split(".").filter((l) => l.length > 0);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "latin1")])), Buffer.from([0])]);
}

/** SSHFP RDATA: algorithm, fingerprint type, fingerprint bytes (any length). */
export function sshfpRdata(algorithm: number, type: number, fingerprint: Buffer | string): Buffer {
  const fp = typeof fingerprint === "string" ? Buffer.from(fingerprint, "hex") : fingerprint;
  return Buffer.concat([Buffer.from([algorithm, type]), fp]);
}

/** Builds a response by hand, so records dns-packet cannot encode (unknown SSHFP types) are possible. */
export function buildMessage(m: FakeMessage): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(m.id, 0);
  header.writeUInt16BE((m.flags ?? FLAG_QR | FLAG_RD | FLAG_RA | FLAG_AD) | (m.rcode ?? 0), 2);
  header.writeUInt16BE(m.question ? 1 : 0, 4);
  header.writeUInt16BE(m.answers?.length ?? 0, 6);
  const parts: Buffer[] = [header];
  if (m.question) {
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(m.question.type ?? TYPE_SSHFP, 0);
    tail.writeUInt16BE(m.question.class ?? CLASS_IN, 2);
    parts.push(encodeName(m.question.name), tail);
  }
  for (const rr of m.answers ?? []) {
    // 0xC00C points at the question's name, right after the 12-byte header.
    parts.push(rr.name === undefined ? Buffer.from([0xc0, 0x0c]) : encodeName(rr.name));
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(rr.type, 0);
    fixed.writeUInt16BE(rr.class ?? CLASS_IN, 2);
    fixed.writeUInt32BE(rr.ttl ?? 300, 4);
    fixed.writeUInt16BE(rr.rdata.length, 8);
    parts.push(fixed, rr.rdata);
  }
  return Buffer.concat(parts);
}

/** Prefixes the 2-byte length used over TCP and TLS. */
export function frame(message: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(message.length);
  return Buffer.concat([len, message]);
}

/** What the server does with a query: send these chunks (with a pause between), or stay silent. */
export type FakeReply = { chunks: Buffer[]; pauseMs?: number } | "silent";

export interface FakeDns {
  /** `127.0.0.1:PORT` */
  address: string;
  /** Every query received, decoded by dns-packet. */
  queries: DecodedPacket[];
  close(): Promise<void>;
}

/** Starts a fake DNS-over-TCP server that answers each query with `reply(query)`. */
export async function startFakeDns(reply: (query: DecodedPacket) => FakeReply): Promise<FakeDns> {
  const queries: DecodedPacket[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = Buffer.alloc(0);
    socket.on("data", async (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      let query: DecodedPacket;
      try {
        query = dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      } catch {
        socket.destroy(); // not DNS (a TLS ClientHello, say): hang up like a real server would
        return;
      }
      buffered = Buffer.alloc(0);
      queries.push(query);
      const r = reply(query);
      if (r === "silent") return;
      for (const [i, c] of r.chunks.entries()) {
        if (i > 0 && r.pauseMs) await new Promise((res) => setTimeout(res, r.pauseMs));
        if (!socket.destroyed) socket.write(c);
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    queries,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}
