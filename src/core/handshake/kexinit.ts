// Reads SSH_MSG_KEXINIT (RFC 4253 §7.1) and computes what both sides will agree on: the key
// exchange method and the host key algorithm, each the first client choice the server lists.
import { PayloadReader, ProtocolViolation } from "./wire.ts";

export const MSG_KEXINIT = 20;

export interface Kexinit {
  kexAlgorithms: string[];
  hostKeyAlgorithms: string[];
  /** The sender guessed and sent its first key exchange packet already. */
  firstKexPacketFollows: boolean;
}

/**
 * Parses a KEXINIT payload (type byte included).
 * @example parseKexinit(packet.payload).hostKeyAlgorithms // ["ssh-ed25519", …]
 */
export function parseKexinit(payload: Buffer): Kexinit {
  const r = new PayloadReader(payload);
  if (r.byte() !== MSG_KEXINIT) throw new ProtocolViolation("not a KEXINIT message");
  r.raw(16); // cookie
  const kexAlgorithms = r.nameList();
  const hostKeyAlgorithms = r.nameList();
  for (let i = 0; i < 8; i++) r.nameList(); // ciphers, MACs, compression, languages, both ways
  const firstKexPacketFollows = r.boolean();
  r.uint32(); // reserved
  return { kexAlgorithms, hostKeyAlgorithms, firstKexPacketFollows };
}

/** Names that only signal extensions (RFC 8308, OpenSSH strict KEX, dropbear's kexguess2); never a real method. */
const isPseudoMethod = (name: string) => name.startsWith("ext-info-") || name.startsWith("kex-strict-") || name === "kexguess2@matt.ucc.asn.au";

/**
 * RFC 4253 §7.1: the first algorithm on the client's list that the server also lists, or
 * undefined when none is. (The server only lists host key algorithms it has keys for.)
 */
export function firstCommon(client: string[], server: string[], skip: (name: string) => boolean = () => false): string | undefined {
  return client.find((name) => !skip(name) && server.includes(name));
}

export interface Negotiated {
  kex?: string;
  hostKey?: string;
}

/** What client and server will both have chosen. */
export function negotiate(client: Kexinit, server: Kexinit): Negotiated {
  return {
    kex: firstCommon(client.kexAlgorithms, server.kexAlgorithms, isPseudoMethod),
    hostKey: firstCommon(client.hostKeyAlgorithms, server.hostKeyAlgorithms),
  };
}
