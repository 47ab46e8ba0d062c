// Looks at a server's host key without trusting it or authenticating: one handshake that
// records the server's identification, the host key algorithms it offers and the key it presents.
import ssh2 from "./ssh2.ts";
import type { ServerHostKeyAlgorithm } from "ssh2";
import type { PublicKey } from "../hostkeys/types.ts";
import { keyTypeOfBlob } from "../hostkeys/index.ts";
import type { HopTransport } from "./hop.ts";
import { escapePeerText } from "../peer-text.ts";

/** What one refused handshake revealed. Nothing here is verified: the signature is never checked. */
export interface HostKeyProbe {
  /** The server's identification line (`SSH-2.0-OpenSSH_9.2p1 Debian-2`), escaped for display. */
  ident?: string;
  /** Host key algorithms the server offers, in its order. */
  offered?: string[];
  /** The key the server presented for the negotiated algorithm. */
  presented?: PublicKey;
  /** True when the server and the offered algorithms have no host key algorithm in common. */
  noOverlap: boolean;
  /** Why the handshake ended before a key was presented, when it did (escaped: a server's DISCONNECT text). */
  failure?: string;
}

/**
 * Runs one handshake offering `algorithms` and stops it as soon as the host key is presented
 * (the verifier refuses every key, so no credential is ever sent).
 * @example const p = await probeHostKey({ host: "127.0.0.1", port: 22 }, ["ssh-ed25519"], 10_000)
 */
export function probeHostKey(transport: HopTransport, algorithms: string[], timeoutMs: number): Promise<HostKeyProbe> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    const got: HostKeyProbe = { noOverlap: false };
    let done = false;
    const finish = (why?: string) => {
      if (done) return;
      done = true;
      if (why && !got.presented) got.failure = escapePeerText(why, 300);
      client.end();
      if ("stream" in transport) transport.stream.destroy();
      resolve(got);
    };
    client.on("error", (e: Error) => finish(e.message));
    client.on("close", () => finish("the connection closed during the handshake"));
    try {
      client.connect({
        ...("stream" in transport
          ? { sock: transport.stream as unknown as import("node:net").Socket }
          : { host: transport.host, port: transport.port }),
        username: "ssh2vsock-doctor",
        readyTimeout: timeoutMs,
        algorithms: { serverHostKey: algorithms as ServerHostKeyAlgorithm[] },
        hostVerifier: (blob: Buffer) => {
          got.presented = { type: keyTypeOfBlob(blob), blob: Buffer.from(blob) };
          // Refusing ends the handshake before any authentication is attempted.
          setImmediate(() => finish());
          return false;
        },
        debug: (line: string) => {
          const ident = /^Remote ident: '(.*)'$/.exec(line);
          if (ident) got.ident = escapePeerText(ident[1]!);
          const offered = /^Handshake: \(remote\) Host key format: (.*)$/.exec(line);
          if (offered) got.offered = offered[1].split(",");
          if (/No matching host key format/i.test(line)) got.noOverlap = true;
        },
      });
    } catch (e) {
      finish((e as Error).message);
    }
  });
}
