// Waits for the first bytes from a freshly opened relay (the guest's SSH banner) so that a
// relay which dies first (no such CID, refused) fails with socat's own reason, as exit 6.
import type { CommandStream } from "./command-stream.ts";
import { RelayError } from "../errors.ts";
import { explainSocatFailure } from "./socat-errors.ts";

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
  const { stream } = cmd;
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.removeListener("data", onData);
      stream.removeListener("end", onEnd);
      stream.removeListener("close", onEnd);
      stream.removeListener("error", onError);
      if (err) {
        cmd.kill();
        reject(err);
      } else resolve();
    };
    const onData = (chunk: Buffer) => {
      stream.pause();
      stream.unshift(chunk);
      finish();
    };
    const onEnd = () => {
      // stderr and the exit status may arrive just after the stream ends: wait for the exit.
      void Promise.race([cmd.exited, delay(1000)]).then((code) =>
        finish(explain(label, cmd.stderr(), typeof code === "number" ? code : null)),
      );
    };
    // A local child's Duplex reports the early end as ERR_STREAM_PREMATURE_CLOSE: that is an
    // end like any other, and socat's stderr says why.
    const onError = (e: Error & { code?: string }) =>
      e.code === "ERR_STREAM_PREMATURE_CLOSE" ? onEnd() : finish(new RelayError(`${label}: ${e.message}`));
    const timer = setTimeout(
      () =>
        finish(
          new RelayError(`${label}: no SSH banner from the guest within ${Math.round(timeoutMs / 1000)} s`, {
            hint: "the guest accepted the connection but its sshd did not greet; is sshd (and not another service) on that port?",
          }),
        ),
      timeoutMs,
    );
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("close", onEnd);
    stream.once("error", onError);
    // A stream paused by an earlier step (the hybrid vsock handshake) stays paused otherwise.
    stream.resume();
  });
}

function delay(ms: number): Promise<undefined> {
  return new Promise((r) => setTimeout(r, ms, undefined).unref?.());
}
