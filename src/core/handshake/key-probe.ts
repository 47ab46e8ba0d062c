// A minimal SSH client that starts a key exchange only to be shown the server's host key K_S,
// judged by the handshake inspector itself: the start-up probe for guests with host certificates.
//
// ssh2 cannot offer host certificate algorithms, so a guest that only a @cert-authority line
// trusts cannot be probed with it. This client sends its identification, a KEXINIT offering the
// policy's algorithms (certificates first) and one ephemeral key exchange value (curve25519 or
// ECDH: a fresh public key, never reused); the server's reply carries K_S, which the inspector
// decides exactly as it does for a real client. No NEWKEYS is ever sent, so nothing is
// authenticated and no secret exists to lose; the server logs a closed pre-auth connection.
import { createECDH, generateKeyPairSync, randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import { RelayError, type Ssh2vsockError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import { createHandshakeInspector, type HandshakeTrust, type InspectorOutcome } from "./inspector.ts";
import { MSG_KEXINIT } from "./kexinit.ts";

const IDENT = "SSH-2.0-ssh2vsock_keyprobe";
const MSG_KEX_ECDH_INIT = 30;
// Methods whose client value is one public key this module can make; all answer with message 31.
const KEX_METHODS = ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521"];
const ECDH_CURVES: Record<string, string> = {
  "ecdh-sha2-nistp256": "prime256v1",
  "ecdh-sha2-nistp384": "secp384r1",
  "ecdh-sha2-nistp521": "secp521r1",
};
// Broad lists so that any server agrees: they are negotiated but never used.
const CIPHERS = ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"];
const MACS = ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "umac-128@openssh.com"];
const COMPRESSION = ["none", "zlib@openssh.com"];

export type KeyProbeOutcome = Extract<InspectorOutcome, { kind: "verified" }>;

/**
 * Shows the guest behind `stream` a key exchange offering `trust`'s certificate and plain
 * algorithms, and resolves with the inspector's "verified" outcome; rejects with its refusal
 * (HostKeyError 3, RelayError 6). Always destroys `stream`.
 * @example await probeKeyWithInspector(relay.stream, policy, { label: "guest web1", hostname: "web1" }, 15_000)
 */
export function probeKeyWithInspector(
  stream: Duplex,
  trust: HandshakeTrust,
  opts: { label: string; hostname: string },
  timeoutMs: number,
): Promise<KeyProbeOutcome> {
  const inspector = createHandshakeInspector(trust, opts);
  return new Promise((resolve, reject) => {
    let sentInit = false;
    const timer = setTimeout(() => settle(inspector.abort("timeout")), timeoutMs);
    const settle = (outcome: InspectorOutcome) => {
      clearTimeout(timer);
      stream.removeAllListeners("data");
      stream.destroy();
      if (outcome.kind === "verified") resolve(outcome);
      else reject(outcome.error);
    };
    const send = (bytes: Buffer) => {
      const step = inspector.fromClient(bytes);
      if (step.outcome) return settle(step.outcome);
      stream.write(bytes);
    };
    stream.on("data", (chunk: Buffer) => {
      const step = inspector.fromServer(chunk);
      if (step.outcome) return settle(step.outcome);
      const kex = inspector.kex;
      if (kex && !sentInit) {
        sentInit = true;
        send(transportPacket(kexInitMessage(kex)));
      }
    });
    stream.on("error", (e: Error) => settle(failed(opts.label, escapePeerText(e.message))));
    stream.on("close", () => settle(inspector.abort("server-ended")));
    stream.on("end", () => settle(inspector.abort("server-ended")));
    // A relay hands its stream over paused (its readiness preamble was read first); a "data"
    // listener alone does not restart a stream paused explicitly.
    stream.resume();
    send(Buffer.from(`${IDENT}\r\n`));
    send(transportPacket(kexinitPayload([...(trust.certificateAlgorithms ?? []), ...trust.algorithms])));
  });
}

function failed(label: string, why: string): InspectorOutcome {
  const error: Ssh2vsockError = new RelayError(`${label}: the connection to the guest failed before it presented its host key: ${why}`);
  return { kind: "refused", error };
}

/** A KEXINIT payload (RFC 4253 §7.1) offering `hostKeyAlgorithms`. */
function kexinitPayload(hostKeyAlgorithms: string[]): Buffer {
  const lists = [KEX_METHODS, hostKeyAlgorithms, CIPHERS, CIPHERS, MACS, MACS, COMPRESSION, COMPRESSION, [], []];
  return Buffer.concat([
    Buffer.from([MSG_KEXINIT]),
    randomBytes(16),
    ...lists.map((names) => sshString(Buffer.from(names.join(","), "latin1"))),
    Buffer.from([0, 0, 0, 0, 0]), // first_kex_packet_follows = false, reserved uint32
  ]);
}

/** The client's key exchange value for `kex`: a fresh public key, its private half discarded. */
function kexInitMessage(kex: string): Buffer {
  let publicValue: Buffer;
  const curve = ECDH_CURVES[kex];
  if (curve) {
    publicValue = createECDH(curve).generateKeys();
  } else {
    // The SPKI of an X25519 key ends in the 32-byte public value.
    const spki = generateKeyPairSync("x25519").publicKey.export({ format: "der", type: "spki" });
    publicValue = Buffer.from(spki.subarray(spki.length - 32));
  }
  return Buffer.concat([Buffer.from([MSG_KEX_ECDH_INIT]), sshString(publicValue)]);
}

/** Frames a payload as an unencrypted binary packet (RFC 4253 §6), block size 8. */
function transportPacket(payload: Buffer): Buffer {
  let padding = 8 - ((5 + payload.length) % 8);
  if (padding < 4) padding += 8;
  const header = Buffer.alloc(5);
  header.writeUInt32BE(1 + payload.length + padding, 0);
  header[4] = padding;
  return Buffer.concat([header, payload, randomBytes(padding)]);
}

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}
