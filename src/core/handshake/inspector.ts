// The handshake inspector: reads the cleartext start of an SSH connection it relays and lets the
// server's key exchange reply reach the client only if its host key K_S is trusted.
//
// Why this is sound: every SSH client checks the server's signature over the exchange hash H
// with K_S before it uses the session. H covers both identification lines, both KEXINITs, K_S
// and both key exchange values, so a peer that shows a trusted K_S without holding its private
// key cannot finish the handshake, and nothing here can be altered without breaking H. After
// NEWKEYS everything is encrypted end to end; the inspector then is a plain pipe. What it cannot
// see: a later re-key (encrypted), where the client itself must refuse a changed key (OpenSSH does).
//
// The inspector is pure: it is fed bytes and answers with what to forward and, once, a decision.
// It holds at most one incomplete line or packet per direction. Refusal forwards nothing more.
import { RelayError, Ssh2vsockError } from "../errors.ts";
import type { HostKeyVerdict, PublicKey } from "../hostkeys/types.ts";
import { escapePeerText } from "../peer-text.ts";
import { TransportFramer } from "./framer.ts";
import type { KexShape } from "./kex-methods.ts";
import { MSG_KEXINIT, parseKexinit, type Kexinit } from "./kexinit.ts";
import { disconnectText, inspectableKex, judgeKexReply } from "./kex-verdict.ts";
import { ProtocolViolation } from "./wire.ts";

const MSG_DISCONNECT = 1;
const MSG_IGNORE = 2;
const MSG_UNIMPLEMENTED = 3;
const MSG_DEBUG = 4;
const HARMLESS = new Set([MSG_IGNORE, MSG_UNIMPLEMENTED, MSG_DEBUG]);

/** What the inspector needs to know about trust; a HostKeyPolicy is one. */
export interface HandshakeTrust {
  /** Host key algorithms with a trusted key (never ssh-rsa, never DSA). */
  readonly algorithms: readonly string[];
  /** Host certificate algorithms a trusted CA (or trusted plain key) vouches for; never ssh-rsa-cert. */
  readonly certificateAlgorithms?: readonly string[];
  verify(key: PublicKey): HostKeyVerdict;
  fingerprint(key: PublicKey): string;
}

export type InspectorOutcome =
  | {
      kind: "verified";
      hostKey: PublicKey;
      /** Negotiated host key algorithm and key exchange method. */
      algorithm: string;
      kex: string;
      /** Where trust came from (`known_hosts file /x:3`). */
      source: string;
      /** describeCertificate() when K_S was a trusted host certificate. */
      certificate?: string;
      serverIdent: string;
      clientIdent: string;
    }
  | { kind: "refused"; error: Ssh2vsockError };

export interface InspectorStep {
  /** Bytes to pass on to the other side now, in order. */
  forward: Buffer[];
  /** Set on the step that decided; after "verified" the caller pipes everything else raw. */
  outcome?: InspectorOutcome;
}

export type Side = "client" | "server";

export interface HandshakeInspector {
  /** Bytes the client sent; `forward` goes to the server. */
  fromClient(chunk: Buffer): InspectorStep;
  /** Bytes the server sent; `forward` goes to the client. */
  fromServer(chunk: Buffer): InspectorStep;
  /** A side ended (or the caller gave up) before a decision: the refusal to report. */
  abort(why: "client-ended" | "server-ended" | "timeout"): InspectorOutcome;
  readonly outcome: InspectorOutcome | undefined;
  /** The negotiated key exchange method, once both KEXINITs are known (the key probe needs it). */
  readonly kex: string | undefined;
  /** Bytes held back, for tests: never more than one packet per side. */
  readonly buffered: number;
}

/**
 * Creates an inspector for one connection. `label` names the guest in messages
 * (`guest web1 (web1.example.com)`); `hostname` is what the key is checked for.
 * @example
 * const ins = createHandshakeInspector(policy, { label: "guest web1", hostname: "web1.example.com" });
 * const { forward, outcome } = ins.fromServer(chunk);
 */
export function createHandshakeInspector(trust: HandshakeTrust, opts: { label: string; hostname: string }): HandshakeInspector {
  const clientFramer = new TransportFramer(false);
  const serverFramer = new TransportFramer(true);
  let clientIdent = "";
  let serverIdent = "";
  let clientKexinit: Kexinit | undefined;
  let serverKexinit: Kexinit | undefined;
  let shape: KexShape | undefined;
  let negotiatedKex = "";
  let negotiatedHostKey = "";
  let outcome: InspectorOutcome | undefined;

  const decide = (o: InspectorOutcome): InspectorOutcome => {
    outcome ??= o;
    // Refused: nothing more is forwarded, so nothing more is worth holding.
    if (outcome.kind === "refused") {
      clientFramer.takeRest();
      serverFramer.takeRest();
    }
    return outcome;
  };
  const refuse = (error: Ssh2vsockError): InspectorStep => ({ forward: [], outcome: decide({ kind: "refused", error }) });
  const violation = (side: Side, e: ProtocolViolation) =>
    new RelayError(`${opts.label}: ${side === "server" ? "the guest" : "the client"} broke the SSH protocol before the host key was verified: ${e.message}`, {
      hint: side === "server" ? "is an SSH server (and not another service) listening on that port in the guest?" : undefined,
    });

  /** Once both KEXINITs are known: refuse at once what could never be verified. */
  const onBothKexinits = (): Ssh2vsockError | undefined => {
    const n = inspectableKex(opts.label, clientKexinit!, serverKexinit!);
    if (n instanceof Ssh2vsockError) return n;
    negotiatedKex = n.kex;
    negotiatedHostKey = n.hostKey;
    shape = n.shape;
    return undefined;
  };

  const fromServer = (chunk: Buffer): InspectorStep => {
    if (outcome) return outcome.kind === "verified" ? { forward: [chunk] } : { forward: [] };
    const forward: Buffer[] = [];
    serverFramer.push(chunk);
    for (;;) {
      try {
        const item = serverFramer.next();
        if (!item) break;
        if (item.kind === "line") {
          if (item.ident) serverIdent = item.text;
          forward.push(item.raw);
          continue;
        }
        const type = item.type;
        if (type === MSG_DISCONNECT) {
          return refuse(new RelayError(`${opts.label}: the guest disconnected before presenting its host key: ${disconnectText(item.payload)}`));
        }
        if (HARMLESS.has(type)) {
          forward.push(item.raw);
          continue;
        }
        if (type === MSG_KEXINIT) {
          if (serverKexinit) throw new ProtocolViolation("a second KEXINIT before the host key");
          serverKexinit = parseKexinit(item.payload);
          forward.push(item.raw);
          if (clientKexinit) {
            const err = onBothKexinits();
            if (err) return refuse(err);
          }
          continue;
        }
        if (!shape) throw new ProtocolViolation(`message ${type} before both key exchange offers were seen`);
        if (type === shape.reply) {
          const o = judgeKexReply(item.payload, { kex: negotiatedKex, hostKey: negotiatedHostKey }, trust, opts, { serverIdent, clientIdent });
          if (o.kind === "refused") return refuse(o.error);
          // What follows the reply (NEWKEYS, then encrypted data) is the client's business.
          forward.push(item.raw, serverFramer.takeRest());
          return { forward, outcome: decide(o) };
        }
        if (shape.before.includes(type)) {
          forward.push(item.raw);
          continue;
        }
        throw new ProtocolViolation(`unexpected message ${type} before the host key (key exchange ${negotiatedKex})`);
      } catch (e) {
        if (e instanceof ProtocolViolation) return refuse(violation("server", e));
        // A K_S that is no SSH public key at all (keyTypeOfBlob's HostKeyError).
        if (e instanceof Ssh2vsockError) return refuse(e);
        throw e;
      }
    }
    return { forward };
  };

  const fromClient = (chunk: Buffer): InspectorStep => {
    if (outcome) return outcome.kind === "verified" ? { forward: [chunk] } : { forward: [] };
    // Once the client's offer is known, its bytes pass untouched: they carry nothing secret
    // before NEWKEYS, and the client cannot send NEWKEYS before the (held) reply arrives.
    if (clientKexinit) return { forward: [chunk] };
    const forward: Buffer[] = [];
    clientFramer.push(chunk);
    try {
      for (let item = clientFramer.next(); item; item = clientFramer.next()) {
        if (item.kind === "line") {
          clientIdent = item.text;
          forward.push(item.raw);
          continue;
        }
        if (item.type === MSG_DISCONNECT) return refuse(new RelayError(`${opts.label}: the client disconnected before the host key was verified: ${disconnectText(item.payload)}`));
        if (HARMLESS.has(item.type)) {
          forward.push(item.raw);
          continue;
        }
        if (item.type !== MSG_KEXINIT) throw new ProtocolViolation(`message ${item.type} before its KEXINIT`);
        clientKexinit = parseKexinit(item.payload);
        forward.push(item.raw, clientFramer.takeRest());
        if (serverKexinit) {
          const err = onBothKexinits();
          if (err) return refuse(err);
        }
        return { forward };
      }
    } catch (e) {
      if (e instanceof ProtocolViolation) return refuse(violation("client", e));
      throw e;
    }
    return { forward };
  };

  return {
    fromClient,
    fromServer,
    abort(why) {
      if (outcome) return outcome;
      const error =
        why === "timeout"
          ? new RelayError(`${opts.label}: the guest did not present its host key in time`, { hint: "is the guest's sshd overloaded, or is another service on that port?" })
          : why === "server-ended"
            ? new RelayError(`${opts.label}: the guest closed the connection before presenting its host key${serverIdent ? ` (it identified as ${escapePeerText(serverIdent)})` : ""}`, {
                hint: "the guest's sshd log says why (MaxStartups, no common algorithm, a refused client address)",
              })
            : new RelayError(`${opts.label}: the client closed the connection before the guest's host key was verified`);
      return decide({ kind: "refused", error });
    },
    get outcome() {
      return outcome;
    },
    get kex() {
      return negotiatedKex || undefined;
    },
    get buffered() {
      return clientFramer.buffered + serverFramer.buffered;
    },
  };
}
