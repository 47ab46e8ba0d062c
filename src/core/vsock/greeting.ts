// Waits for the first bytes from a freshly opened relay (the guest's SSH banner) so that a
// relay which dies first (no such CID, refused) fails with socat's own reason, as exit 6.
import type { CommandStream } from "./command-stream.ts";
import { RelayError } from "../errors.ts";
import { explainSocatFailure } from "./socat-errors.ts";
import { readPreamble } from "./_preamble.ts";

/** Names the cause of a relay that ended early, from its stderr and exit status. */
export type ExplainFailure = (label: string, stderr: string, exitCode: number | null) => RelayError;

/**
 * Resolves once the stream has produced data (which is pushed back for the next reader);
 * rejects with a RelayError naming the cause (by `explain`, socat's vsock reasons by default)
 * when the command ends or `timeoutMs` passes first.
 */
export function awaitGreeting(
  cmd: CommandStream,
  label: string,
  timeoutMs: number,
  explain: ExplainFailure = explainSocatFailure,
): Promise<void> {
  return readPreamble(cmd, {
    label,
    timeoutMs,
    judge: (received) => ({ accept: true, rest: received }),
    ended: (_received, stderr, code) => explain(label, stderr, code),
    timedOut: () =>
      new RelayError(`${label}: no SSH banner from the guest within ${Math.round(timeoutMs / 1000)} s`, {
        hint: "the guest accepted the connection but its sshd did not greet; is sshd (and not another service) on that port?",
      }),
  });
}
