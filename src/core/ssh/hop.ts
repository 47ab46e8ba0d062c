// One verified, authenticated SSH session (a "hop"): the hypervisor over TCP, or the guest over
// the relay's byte stream. Trust is decided by a HostKeyPolicy; ssh2 failures become typed errors.
import ssh2 from "./ssh2.ts";
import type { Client, ClientChannel, ServerHostKeyAlgorithm } from "ssh2";
import type { Duplex } from "node:stream";
import type { PublicKey } from "../hostkeys/types.ts";
import { keyTypeOfBlob } from "../hostkeys/index.ts";
import { authOptions, type ReadFile } from "./auth.ts";
import type { HopAuth } from "../config/types.ts";
import type { HostKeyPolicy } from "./host-key-policy.ts";
import { translateSshError, type HandshakeTrace } from "./translate-error.ts";
import net from "node:net";
import { coalesceWrites } from "./coalesce-writes.ts";
import { fitPacketsInto } from "./fit-packets.ts";
import { stopPacketTrace } from "./stop-packet-trace.ts";

/** Where a hop's transport comes from: a TCP address, or an already-open stream. */
export type HopTransport = { host: string; port: number } | { stream: Duplex };

export interface HopTiming {
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

export interface HopSpec {
  /** `hypervisor 127.0.0.1:2222` or `guest web1`: prefixes every message about this hop. */
  label: string;
  transport: HopTransport;
  username: string;
  auth: HopAuth;
  policy: HostKeyPolicy;
  timing: HopTiming;
  readFile: ReadFile;
  /** Receives ssh2's protocol trace (-vv); never sees secrets. */
  debug?: (line: string) => void;
}

/** A connected hop. Closing it closes every channel on it. */
export interface SshHop {
  readonly label: string;
  /** The host key that was presented and verified (pinned for rekeys). */
  readonly hostKey: PublicKey;
  readonly negotiated: { serverHostKey: string; cipher: string };
  exec(command: string): Promise<ClientChannel>;
  forwardOut(dstHost: string, dstPort: number): Promise<ClientChannel>;
  close(): void;
  /** Resolves when the session has ended, for whatever reason. */
  readonly closed: Promise<void>;
  readonly isOpen: boolean;
}

/**
 * Connects, verifies the host key against the policy, and authenticates.
 * Rejects with HostKeyError, AuthError, UnreachableError (TCP) or RelayError (stream).
 */
export function openHop(spec: HopSpec): Promise<SshHop> {
  const client = new ssh2.Client();
  const trace: HandshakeTrace = { label: spec.label, ours: spec.policy.algorithms };
  let pinned: PublicKey | undefined;
  let open = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  client.on("close", () => {
    open = false;
    resolveClosed();
  });

  const credentials = authOptions(spec.auth, spec.readFile, spec.label, spec.username);
  if (credentials.userCertificate) trace.userCertificate = credentials.userCertificate;
  if (credentials.password !== undefined) {
    const password = credentials.password;
    client.on("keyboard-interactive", (_n, _i, _l, prompts, finish) => finish(prompts.map(() => password)));
  }

  const hostVerifier = (blob: Buffer): boolean => {
    const presented: PublicKey = { type: keyTypeOfBlob(blob), blob: Buffer.from(blob) };
    trace.presentedType = presented.type;
    // ssh2 calls this again on every rekey: the key must not change mid-session (ssh2 does not check).
    if (pinned) {
      if (pinned.blob.equals(presented.blob)) return true;
      trace.verdict = { kind: "changed", presented: spec.policy.fingerprint(presented), expected: ["the key verified at connection"] };
      return false;
    }
    const verdict = spec.policy.verify(presented);
    trace.verdict = verdict;
    if (verdict.kind !== "trusted") return false;
    pinned = presented;
    return true;
  };

  return new Promise<SshHop>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(translateSshError(err, trace, "stream" in spec.transport));
    };
    // `on`, not `once`: ssh2 may emit a second error (the socket ending) after the first failure.
    client.on("error", fail);
    client.on("handshake", (n) => {
      trace.negotiated = { serverHostKey: n.serverHostKey, cipher: n.cs.cipher };
    });
    client.once("close", () => fail(new Error("connection closed before authentication completed")));
    client.once("ready", () => {
      if (settled) return;
      settled = true;
      open = true;
      client.removeListener("error", fail);
      if (!spec.debug) stopPacketTrace(client);
      // Later errors (keepalive timeout, reset) end the session; `closed` reports it.
      client.on("error", (e) => spec.debug?.(`${spec.label}: ${(e as Error).message}`));
      resolve({
        label: spec.label,
        hostKey: pinned!,
        negotiated: trace.negotiated ?? { serverHostKey: "?", cipher: "?" },
        exec: (command) => execOn(client, command),
        forwardOut: (h, p) => forwardOutOn(client, h, p).then((ch) => fitPacketsInto(ch, spec.transport)),
        close: () => client.end(),
        closed,
        get isOpen() {
          return open;
        },
      });
    });
    try {
      client.connect({
        ...("stream" in spec.transport
          ? { sock: coalesceWrites(spec.transport.stream) as unknown as net.Socket }
          : // Our own socket (ssh2 waits for its connect) so that its writes are coalesced too.
            { sock: coalesceWrites(net.connect({ host: spec.transport.host, port: spec.transport.port })) }),
        username: spec.username,
        ...credentials,
        tryKeyboard: credentials.password !== undefined,
        hostVerifier,
        algorithms: { serverHostKey: spec.policy.algorithms as ServerHostKeyAlgorithm[] },
        readyTimeout: spec.timing.readyTimeoutMs,
        keepaliveInterval: spec.timing.keepaliveIntervalMs,
        keepaliveCountMax: spec.timing.keepaliveCountMax,
        debug: (line: string) => {
          const m = /^Handshake: \(remote\) Host key format: (.*)$/.exec(line);
          if (m) trace.offered = m[1].split(",");
          spec.debug?.(line);
        },
      });
    } catch (e) {
      fail(e);
    }
  });
}

function execOn(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch))),
  );
}

function forwardOutOn(client: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    client.forwardOut("127.0.0.1", 0, host, port, (err, ch) => (err ? reject(err) : resolve(ch))),
  );
}
