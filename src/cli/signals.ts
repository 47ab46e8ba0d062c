// Waiting for the signals that end a long-running command, and removing the handlers after.

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
