// The hybrid vsock handshake (Firecracker's and Cloud Hypervisor's docs/vsock.md): on the VMM's
// Unix socket, send `CONNECT <port>\n` and require `OK <n>\n` before the guest's stream begins.
import type { CommandStream } from "./command-stream.ts";
import type { ExplainFailure } from "./greeting.ts";
import { RelayError } from "../errors.ts";
import { GUEST_FIXES } from "./socat-errors.ts";
import { readPreamble } from "./_preamble.ts";
import { quotePeerBytes as printable } from "../peer-text.ts";

/** A reply line longer than this is not the VMM speaking. */
const MAX_REPLY = 128;


/** Received bytes shown safely in one line (the shared peer-text helper). */
export { printable };

/** What a reply line means: accepted (with the host-side port the VMM chose) or not. */
export function parseMuxReply(line: string): { ok: true; hostPort: number } | { ok: false } {
  const m = /^OK ([0-9]{1,10})$/.exec(line);
  return m ? { ok: true, hostPort: Number(m[1]) } : { ok: false };
}

export interface MuxHandshake {
  /** Names the guest in messages. */
  label: string;
  /** Guest vsock port to CONNECT to. */
  port: number;
  timeoutMs: number;
  /** Explains a stream that ended before any reply (socat could not open the socket, …). */
  explainEarlyEnd: ExplainFailure;
}

/**
 * Performs the handshake on a freshly opened socket stream. Bytes after the `OK` line belong to
 * the guest's SSH and are pushed back; the stream is left paused for the next reader to resume.
 * Rejects with RelayError (exit 6).
 */
export function muxConnect(cmd: CommandStream, h: MuxHandshake): Promise<void> {
  const garbage = (received: Buffer) =>
    new RelayError(`${h.label}: the hybrid vsock socket answered ${printable(received)} instead of "OK <port>"`, {
      hint: received.subarray(0, 4).toString("latin1") === "SSH-"
        ? "that socket carries SSH directly: use unix/PATH (unix_socket) instead of vsock-mux/PATH"
        : "is PATH the VMM's hybrid vsock socket (Firecracker's uds_path, Cloud Hypervisor's --vsock socket=)?",
    });
  const handshake = readPreamble(cmd, {
    label: h.label,
    timeoutMs: h.timeoutMs,
    judge(received) {
      const nl = received.indexOf(0x0a);
      if (nl === -1) return received.length > MAX_REPLY ? { error: garbage(received) } : { more: true };
      const line = received.subarray(0, nl).toString("latin1").replace(/\r$/, "");
      if (!parseMuxReply(line).ok) return { error: garbage(received) };
      return { accept: true, rest: received.subarray(nl + 1) };
    },
    ended(received, stderr, code) {
      if (received.length > 0) return garbage(received);
      if (stderr.trim() || (code !== null && code !== 0)) return h.explainEarlyEnd(h.label, stderr.trim(), code);
      return new RelayError(`${h.label}: the hybrid vsock socket refused CONNECT ${h.port} (closed without a reply)`, {
        hint: `nothing is listening on vsock port ${h.port} in the guest; ${GUEST_FIXES}`,
      });
    },
    timedOut: (received) =>
      new RelayError(
        `${h.label}: no reply to CONNECT ${h.port} within ${Math.round(h.timeoutMs / 1000)} s` +
          (received.length > 0 ? ` (received ${printable(received)})` : ""),
        { hint: "is PATH the VMM's hybrid vsock socket, and is the VM running?" },
      ),
  });
  cmd.stream.write(`CONNECT ${h.port}\n`);
  return handshake;
}
