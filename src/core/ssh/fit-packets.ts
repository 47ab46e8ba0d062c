// Sizes a nested channel's packets so each one, once encrypted, fits in a single packet of the
// channel that carries it: a 32 KiB inner packet would otherwise cost two outer packets.
import type { ClientChannel } from "ssh2";
import type { HopTransport } from "./hop.ts";

/** Bytes an encrypted SSH_MSG_CHANNEL_DATA adds to its payload: length, padding, header, MAC (≤ 49 for AES-GCM). */
const PACKET_OVERHEAD = 64;
/** Below this a packet costs more in headers than a split would. */
const MIN_PACKET = 4096;

interface WithPacketSize {
  outgoing?: { packetSize?: number };
}

/**
 * When the hop runs over another SSH channel (`transport.stream` is an ssh2 channel), caps
 * `ch`'s outgoing packet size to what fits in one packet of that channel. Returns `ch`.
 */
export function fitPacketsInto(ch: ClientChannel, transport: HopTransport): ClientChannel {
  if (!("stream" in transport)) return ch;
  const carrier = (transport.stream as WithPacketSize).outgoing?.packetSize;
  const own = (ch as unknown as WithPacketSize).outgoing;
  if (!carrier || !own?.packetSize) return ch;
  const fit = carrier - PACKET_OVERHEAD;
  if (fit >= MIN_PACKET && fit < own.packetSize) own.packetSize = fit;
  return ch;
}
