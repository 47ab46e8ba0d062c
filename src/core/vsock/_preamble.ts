// Reads what a relay stream says before the guest's SSH begins (its banner, a hybrid vsock
// `OK` line), hands every later byte to the next reader, and turns early ends into RelayErrors.
import type { CommandStream } from "./command-stream.ts";
import { RelayError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";

/** The reader's judgement of everything received so far. */
export type PreambleVerdict = { more: true } | { accept: true; rest: Buffer } | { error: RelayError };

export interface PreambleReader {
  /** Prefixes transport errors: `guest web1 (vsock CID 3 port 22) via hypervisor …`. */
  label: string;
  timeoutMs: number;
  judge(received: Buffer): PreambleVerdict;
  /** Why the stream ended first; called once the command has exited (or 1 s later). */
  ended(received: Buffer, stderr: string, exitCode: number | null): RelayError;
  timedOut(received: Buffer): RelayError;
}

/**
 * Resolves once `judge` accepts, leaving the stream paused with `rest` pushed back; rejects
 * (and ends the command) with the reader's RelayError when the stream ends, fails or times out.
 */
export function readPreamble(cmd: CommandStream, r: PreambleReader): Promise<void> {
  const { stream } = cmd;
  return new Promise<void>((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
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
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const verdict = r.judge(received);
      if ("error" in verdict) return finish(verdict.error);
      if ("more" in verdict) return;
      stream.pause();
      if (verdict.rest.length > 0) stream.unshift(verdict.rest);
      finish();
    };
    const onEnd = () => {
      // stderr and the exit status may arrive just after the stream ends: wait for the exit.
      void Promise.race([cmd.exited, delay(1000)]).then((code) =>
        finish(r.ended(received, cmd.stderr(), typeof code === "number" ? code : null)),
      );
    };
    // A local child's Duplex reports the early end as ERR_STREAM_PREMATURE_CLOSE: that is an
    // end like any other, and the command's stderr says why.
    const onError = (e: Error & { code?: string }) =>
      e.code === "ERR_STREAM_PREMATURE_CLOSE" ? onEnd() : finish(new RelayError(`${r.label}: ${escapePeerText(e.message)}`));
    const timer = setTimeout(() => finish(r.timedOut(received)), r.timeoutMs);
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
