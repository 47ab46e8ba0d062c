// The inspector's judgements, as pure functions of what it has read: whether a negotiated key
// exchange can be inspected at all, and whether the K_S in the server's reply is trusted.
import { HostKeyError, RelayError, type Ssh2vsockError } from "../errors.ts";
import { hostKeyErrorFor, keyTypeOfAlgorithm, keyTypeOfBlob } from "../hostkeys/index.ts";
import type { PublicKey } from "../hostkeys/types.ts";
import { escapePeerText } from "../peer-text.ts";
import type { HandshakeTrust, InspectorOutcome } from "./inspector.ts";
import { kexShape, type KexShape } from "./kex-methods.ts";
import { negotiate, type Kexinit } from "./kexinit.ts";
import { PayloadReader } from "./wire.ts";

/** What both KEXINITs settled, when the inspector can follow it to K_S. */
export interface InspectableKex {
  kex: string;
  hostKey: string;
  shape: KexShape;
}

/**
 * Negotiates as RFC 4253 §7.1 does, and refuses at once what could never be verified: no common
 * method, a method whose reply the inspector cannot read, a server's guessed first packet.
 * @example inspectableKex("guest web1", clientKexinit, serverKexinit) // { kex: "curve25519-sha256", hostKey: "ssh-ed25519", shape }
 */
export function inspectableKex(label: string, client: Kexinit, server: Kexinit): InspectableKex | Ssh2vsockError {
  const n = negotiate(client, server);
  if (!n.kex) {
    return new RelayError(`${label}: client and guest have no key exchange method in common (client: ${client.kexAlgorithms.join(",")}; guest: ${server.kexAlgorithms.join(",")})`);
  }
  if (!n.hostKey) {
    return new HostKeyError("hostkey-algorithm", `${label}: client and guest have no host key algorithm in common (client: ${client.hostKeyAlgorithms.join(",")}; guest: ${server.hostKeyAlgorithms.join(",")})`);
  }
  const shape = kexShape(n.kex);
  if (!shape) {
    return new HostKeyError("kex-unverifiable", `${label}: key exchange method ${n.kex} cannot be inspected, so the guest's host key cannot be verified; refused`, {
      hint: `allow a method the inspector reads (-o KexAlgorithms=curve25519-sha256,sntrup761x25519-sha512@openssh.com,mlkem768x25519-sha256), or use mode = "forward"`,
    });
  }
  if (server.firstKexPacketFollows) {
    return new HostKeyError("kex-unverifiable", `${label}: the guest sent a guessed key exchange packet (first_kex_packet_follows), which the inspector does not accept; refused`, {
      hint: `use mode = "forward" for this guest`,
    });
  }
  return { kex: n.kex, hostKey: n.hostKey, shape };
}

/**
 * Judges the server's key exchange reply. The key decides first (a revoked or unknown key is
 * named as such), then the algorithm the client will check its signature with: a trusted RSA
 * key signed with SHA-1 is still refused. Throws HostKeyError when K_S is no SSH public key.
 */
export function judgeKexReply(
  payload: Buffer,
  negotiated: { kex: string; hostKey: string },
  trust: HandshakeTrust,
  opts: { label: string; hostname: string },
  idents: { serverIdent: string; clientIdent: string },
): InspectorOutcome {
  const r = new PayloadReader(payload);
  r.byte();
  const blob = Buffer.from(r.string());
  const type = keyTypeOfBlob(blob);
  if (type !== keyTypeOfAlgorithm(negotiated.hostKey)) {
    return { kind: "refused", error: new HostKeyError("hostkey-algorithm", `${opts.label}: the guest presented a ${type} key for the negotiated algorithm ${negotiated.hostKey}; refused`) };
  }
  const key: PublicKey = { type, blob };
  const verdict = trust.verify(key);
  if (verdict.kind !== "trusted") return { kind: "refused", error: hostKeyErrorFor(verdict, `${opts.label} (${opts.hostname})`, type) };
  const unsafe = algorithmRefusal(negotiated.hostKey, trust, opts.label);
  if (unsafe) return { kind: "refused", error: unsafe };
  return {
    kind: "verified",
    hostKey: key,
    algorithm: negotiated.hostKey,
    kex: negotiated.kex,
    source: verdict.source,
    ...(verdict.certificate ? { certificate: verdict.certificate } : {}),
    ...idents,
  };
}

/** Why a negotiated host key algorithm is refused even with a trusted key, if it is. */
function algorithmRefusal(algorithm: string, trust: HandshakeTrust, label: string): HostKeyError | undefined {
  const accepted = [...trust.algorithms, ...(trust.certificateAlgorithms ?? [])];
  if (accepted.includes(algorithm)) return undefined;
  const why = algorithm === "ssh-rsa" || algorithm === "ssh-rsa-cert-v01@openssh.com"
    ? "SHA-1 ssh-rsa signatures are never accepted"
    : `trusted keys allow only ${accepted.join(", ") || "(none)"}`;
  return new HostKeyError("hostkey-algorithm", `${label}: the client negotiated host key algorithm ${algorithm} with the guest: ${why}`, {
    hint: `let the client prefer an algorithm with a trusted key: -o HostKeyAlgorithms=${accepted.join(",")}`,
  });
}

/** A DISCONNECT's description and code, escaped: it comes from a peer not yet verified. */
export function disconnectText(payload: Buffer): string {
  try {
    const r = new PayloadReader(payload);
    r.byte();
    const code = r.uint32();
    return `${escapePeerText(r.string().toString("utf8"))} (code ${code})`;
  } catch {
    return "(malformed DISCONNECT)";
  }
}
