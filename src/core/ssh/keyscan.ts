// Fetches a server's host keys without trusting or authenticating: one handshake per key type
// the server offers, each stopped right after the key is presented (for `ssh2vsock keyscan`).
import ssh2 from "./ssh2.ts";
import type { ServerHostKeyAlgorithm } from "ssh2";
import type { Duplex } from "node:stream";
import type { PublicKey } from "../hostkeys/types.ts";
import { ALL_SAFE_HOST_KEY_ALGORITHMS, keyTypeOfBlob } from "../hostkeys/index.ts";
import { RelayError } from "../errors.ts";

/** Algorithms asked for together: one key each. RSA is one key offered under two signature names. */
const GROUPS: string[][] = [
  ["ssh-ed25519"],
  ["ecdsa-sha2-nistp256"],
  ["ecdsa-sha2-nistp384"],
  ["ecdsa-sha2-nistp521"],
  ["rsa-sha2-512", "rsa-sha2-256"],
];

interface Capture {
  key?: PublicKey;
  offered?: string[];
}

/** Runs one handshake over `stream` offering `algorithms`, and captures the presented key. */
function captureOnce(stream: Duplex, algorithms: string[], timeoutMs: number): Promise<Capture> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    const got: Capture = {};
    const done = () => {
      client.end();
      stream.destroy();
      resolve(got);
    };
    client.on("error", done);
    client.on("close", done);
    client.connect({
      sock: stream as never,
      username: "keyscan",
      readyTimeout: timeoutMs,
      algorithms: { serverHostKey: algorithms as ServerHostKeyAlgorithm[] },
      // Refusing every key ends the handshake before any authentication is attempted.
      hostVerifier: (blob: Buffer) => {
        got.key = { type: keyTypeOfBlob(blob), blob: Buffer.from(blob) };
        return false;
      },
      debug: (line: string) => {
        const m = /^Handshake: \(remote\) Host key format: (.*)$/.exec(line);
        if (m) got.offered = m[1].split(",");
      },
    });
  });
}

/**
 * Every host key the server offers among the algorithms ssh2vsock supports.
 * `openStream` opens a fresh byte stream to the server for each handshake.
 */
export async function scanHostKeys(openStream: () => Promise<Duplex>, label: string, timeoutMs: number): Promise<PublicKey[]> {
  const first = await captureOnce(await openStream(), [...ALL_SAFE_HOST_KEY_ALGORITHMS], timeoutMs);
  if (!first.offered) throw new RelayError(`${label}: no SSH handshake while scanning host keys`);
  const keys: PublicKey[] = [];
  for (const group of GROUPS) {
    if (!group.some((a) => first.offered!.includes(a))) continue;
    const { key } = await captureOnce(await openStream(), group, timeoutMs);
    if (key && !keys.some((k) => k.blob.equals(key.blob))) keys.push(key);
  }
  return keys;
}
