// Signals for long-running commands: waiting for the one that ends them, relaying them to a
// child (run, which may be PID 1 in a container), and the shell's 128+N exit status convention.
import os from "node:os";

/** Resolves with the first of `signals` received. */
export function nextSignal(signals: NodeJS.Signals[]): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (sig: NodeJS.Signals) => {
      for (const s of signals) process.removeListener(s, handler);
      resolve(sig);
    };
    for (const s of signals) process.on(s, handler);
  });
}

/**
 * The exit status a shell reports for a child: its code, or 128 + the signal's number when
 * a signal ended it.
 * @example exitStatusOf(null, "SIGTERM") === 143
 */
export function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? os.constants.signals[signal] : undefined;
  return n === undefined ? 1 : 128 + n;
}

/**
 * Leaves at once after a signal that came before there was anything to shut down gracefully:
 * one line saying so, then the shell's 128+N, as the signal's default action would have ended.
 * @example stopBecauseOf("SIGTERM", "the tunnels were ready") // exits 143
 */
export function stopBecauseOf(sig: NodeJS.Signals, before: string): void {
  process.stderr.write(`ssh2vsock: ${sig} before ${before}; stopping\n`, () => process.exit(exitStatusOf(null, sig)));
}

/**
 * Installs handlers for `signals` at once and calls `onSignal` for each one received. Having a
 * handler matters for PID 1: the kernel drops signals a PID 1 does not handle, so without it a
 * container would ignore `docker stop` until SIGKILL. Returns a function removing the handlers.
 */
export function onSignals(signals: NodeJS.Signals[], onSignal: (sig: NodeJS.Signals) => void): () => void {
  const handler = (sig: NodeJS.Signals) => onSignal(sig);
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.removeListener(s, handler);
  };
}
