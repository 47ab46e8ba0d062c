// Fetches a server's host keys without trusting or authenticating: one handshake per key type
// the server offers, each stopped right after the key is presented (for `ssh2vsock keyscan`).
import type { Duplex } from "node:stream";
import type { PublicKey } from "../hostkeys/types.ts";
import { ALL_SAFE_HOST_KEY_ALGORITHMS } from "../hostkeys/index.ts";
import { RelayError } from "../errors.ts";
import { probeHostKey } from "./probe.ts";

/** Algorithms asked for together: one key each. RSA is one key offered under two signature names. */
const GROUPS: string[][] = [
  ["ssh-ed25519"],
  ["ecdsa-sha2-nistp256"],
  ["ecdsa-sha2-nistp384"],
  ["ecdsa-sha2-nistp521"],
  ["rsa-sha2-512", "rsa-sha2-256"],
];

/**
 * Every host key the server offers among the algorithms ssh2vsock supports.
 * `openStream` opens a fresh byte stream to the server for each handshake.
 */
export async function scanHostKeys(openStream: () => Promise<Duplex>, label: string, timeoutMs: number): Promise<PublicKey[]> {
  const first = await probeHostKey({ stream: await openStream() }, [...ALL_SAFE_HOST_KEY_ALGORITHMS], timeoutMs);
  const offered = first.offered;
  if (!offered) throw new RelayError(`${label}: no SSH handshake while scanning host keys`);
  const keys: PublicKey[] = [];
  for (const group of GROUPS) {
    if (!group.some((a) => offered.includes(a))) continue;
    const { presented } = await probeHostKey({ stream: await openStream() }, group, timeoutMs);
    if (presented && !keys.some((k) => k.blob.equals(presented.blob))) keys.push(presented);
  }
  return keys;
}
