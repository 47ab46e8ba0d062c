// Feeds recorded or crafted chunks through a handshake inspector the way a relay would, and
// builds the trust it checks against (a HostKeyPolicy from known_hosts lines, or a stub).
import { createHandshakeInspector, type HandshakeTrust, type InspectorOutcome } from "../../src/core/handshake/inspector.ts";
import { buildHostKeyPolicy } from "../../src/core/ssh/host-key-policy.ts";
import { ALL_SAFE_HOST_KEY_ALGORITHMS, fingerprintSha256 } from "../../src/core/hostkeys/index.ts";
import type { HostKeyVerdict, PublicKey } from "../../src/core/hostkeys/types.ts";
import type { Chunk } from "./_handshake-wire.ts";

export const HOSTNAME = "guest.test";
export const LABEL = "guest test";

/** A HostKeyPolicy, exactly as production builds it, from inline known_hosts lines. */
export function policyFrom(lines: string[]): Promise<HandshakeTrust> {
  return buildHostKeyPolicy(
    { knownHosts: lines, useSshfp: false, ignoreHostKey: false, origin: "guests.test" },
    HOSTNAME,
    22,
    LABEL,
    { readText: () => undefined, sshfp: async () => ({ fingerprints: [], warnings: [] }) },
  );
}

/** `guest.test TYPE BASE64`, the known_hosts line trusting `line`'s key. */
export const knownHostsLine = (publicKeyLine: string) => `${HOSTNAME} ${publicKeyLine.split(" ").slice(0, 2).join(" ")}`;

/** A trust that claims every safe algorithm but answers with `verify` (models a partial policy). */
export function trustStub(verify: (key: PublicKey) => HostKeyVerdict, algorithms: readonly string[] = ALL_SAFE_HOST_KEY_ALGORITHMS): HandshakeTrust {
  return { algorithms, verify, fingerprint: (k) => fingerprintSha256(k.blob) };
}

export interface Replay {
  outcome: InspectorOutcome | undefined;
  /** Everything the inspector let through towards the server, and towards the client. */
  toServer: Buffer;
  toClient: Buffer;
  /** The largest `buffered` seen after any call. */
  maxBuffered: number;
  /** How many calls returned a decision (must be at most one). */
  decisions: number;
}

/**
 * Feeds `chunks` in order. After a decision the rest is still fed, as a relay that has not yet
 * torn down would; `end` calls abort("server-ended") when nothing was decided by the end.
 */
export function replay(
  trust: HandshakeTrust,
  chunks: Chunk[],
  opts: { end?: boolean; onStep?: (buffered: number, chunk: Buffer, undecided: boolean) => void } = {},
): Replay {
  const ins = createHandshakeInspector(trust, { label: LABEL, hostname: HOSTNAME });
  const toServer: Buffer[] = [];
  const toClient: Buffer[] = [];
  let outcome: InspectorOutcome | undefined;
  let maxBuffered = 0;
  let decisions = 0;
  for (const c of chunks) {
    const undecided = !outcome;
    const step = c.from === "client" ? ins.fromClient(c.data) : ins.fromServer(c.data);
    (c.from === "client" ? toServer : toClient).push(...step.forward);
    if (step.outcome) {
      decisions++;
      outcome = step.outcome;
    }
    maxBuffered = Math.max(maxBuffered, ins.buffered);
    opts.onStep?.(ins.buffered, c.data, undecided);
  }
  if (!outcome && opts.end) outcome = ins.abort("server-ended");
  return { outcome: outcome ?? ins.outcome, toServer: Buffer.concat(toServer), toClient: Buffer.concat(toClient), maxBuffered, decisions };
}

/** The chunks with the `from` side's byte `at` (counted over that side's bytes) starting a new chunk. */
export function splitAt(chunks: Chunk[], from: Chunk["from"], at: number): Chunk[] {
  const out: Chunk[] = [];
  let seen = 0;
  for (const c of chunks) {
    if (c.from === from && at > seen && at < seen + c.data.length) {
      out.push({ from, data: c.data.subarray(0, at - seen) }, { from, data: c.data.subarray(at - seen) });
    } else {
      out.push(c);
    }
    if (c.from === from) seen += c.data.length;
  }
  return out;
}

/** Every chunk cut into single bytes, order kept. */
export const byteByByte = (chunks: Chunk[]): Chunk[] =>
  chunks.flatMap((c) => Array.from({ length: c.data.length }, (_, i) => ({ from: c.from, data: c.data.subarray(i, i + 1) })));

/** A one-line description of an outcome for assertion messages. */
export function describe(o: InspectorOutcome | undefined): string {
  if (!o) return "no decision";
  if (o.kind === "verified") return `verified ${o.kex} ${o.algorithm} ${fingerprintSha256(o.hostKey.blob)}`;
  return `refused ${o.error.name}/${o.error.code}: ${o.error.message}`;
}
