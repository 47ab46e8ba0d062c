// The one place where ssh2's and node:net's raw errors become ssh2vsock's typed errors
// (CONVENTIONS.md rule 5), using what the handshake trace saw: verdict, offered algorithms.
import type { HostKeyVerdict } from "../hostkeys/types.ts";
import { describeAlgorithmMismatch, hostKeyErrorFor } from "../hostkeys/index.ts";
import { AuthError, HostKeyError, RelayError, Ssh2vsockError, UnreachableError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import { userCertificateHint, type UserCertificate } from "./user-certificate.ts";

/** What a hop's handshake revealed before it failed. */
export interface HandshakeTrace {
  label: string;
  ours: string[];
  offered?: string[];
  verdict?: HostKeyVerdict;
  /** Type of the key the server presented, for messages. */
  presentedType?: string;
  negotiated?: { serverHostKey: string; cipher: string };
  /** The user certificate offered, if any: a refusal then shows it. */
  userCertificate?: UserCertificate;
}

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNRESET", "EPIPE"]);

/**
 * Maps a failure while opening a hop to a typed error.
 * `overStream`: the hop runs over the relay, so transport failures are relay failures (exit 6).
 */
export function translateSshError(err: unknown, trace: HandshakeTrace, overStream: boolean): Ssh2vsockError {
  if (err instanceof Ssh2vsockError) return err;
  const e = err as Error & { level?: string; code?: string };
  // ssh2 makes a server's DISCONNECT description the error message: peer text, sent before
  // any host key is verified.
  const msg = escapePeerText(e?.message ?? String(err), 300);
  if (trace.verdict && trace.verdict.kind !== "trusted") return hostKeyErrorFor(trace.verdict, trace.label, trace.presentedType);
  if (/no matching host key format/i.test(msg)) {
    return new HostKeyError("no-algorithm-overlap", `${trace.label}: ${describeAlgorithmMismatch(trace.offered ?? [], trace.ours)}`, {
      hint: "add a known_hosts entry (or SSHFP record) for a key type the server offers",
    });
  }
  if (e?.level === "client-authentication" || /authentication methods failed/i.test(msg)) {
    if (trace.userCertificate) {
      return new AuthError(`${trace.label}: authentication failed: user certificate ${trace.userCertificate.path} refused`, {
        hint: userCertificateHint(trace.userCertificate, new Date()),
      });
    }
    return new AuthError(`${trace.label}: authentication failed`, {
      hint: "check the username and the configured password, private key or agent",
    });
  }
  if (/no matching .* (cipher|MAC|key exchange)/i.test(msg) || /Handshake failed/i.test(msg)) {
    return new HostKeyError("handshake", `${trace.label}: handshake failed: ${msg}`, {
      hint: "the server's algorithms and ours do not overlap; run with -vv to see both lists",
    });
  }
  if (overStream) {
    return new RelayError(`${trace.label}: the stream to the guest failed: ${msg}`, {
      hint: "check that the guest's sshd is listening on its vsock port",
    });
  }
  if (e?.level === "client-timeout") {
    return new UnreachableError(`${trace.label}: no SSH handshake within the connect timeout`, {
      hint: "check the address and port, and that nothing filters the connection",
    });
  }
  if ((e?.code && UNREACHABLE_CODES.has(e.code)) || e?.level === "client-socket" || e?.level === "client-dns") {
    // node's messages already carry the code: "connect ECONNREFUSED 127.0.0.1:22".
    return new UnreachableError(`${trace.label}: ${e.code && !msg.includes(e.code) ? `${e.code}: ` : ""}${msg}`, {
      hint: "check the hypervisor's hostname and port and that its sshd is running",
    });
  }
  return new UnreachableError(`${trace.label}: ${msg}`, { hint: "run with -vv for the protocol trace" });
}
