// Joins an SSH client to a guest's byte stream through the handshake inspector: bytes flow as
// the inspector allows until it decides, then the two sides are piped raw (or both closed).
import type { Readable, Writable } from "node:stream";
import type { HandshakeInspector, InspectorOutcome, InspectorStep } from "./inspector.ts";

/** One side of the splice: a Duplex, or separate ends (stdin/stdout for `proxy`). */
export interface StreamEnds {
  readable: Readable;
  writable: Writable;
}

export interface Splice {
  /** Resolves once, with the inspector's decision (a refusal has already closed both sides). */
  decided: Promise<InspectorOutcome>;
  /** Resolves when both directions have finished. */
  done: Promise<void>;
  /** Resolves when the server's side has ended (the session is over for a ProxyCommand). */
  serverEnded: Promise<void>;
  /** Tears both sides down at once. */
  destroy(): void;
}

/**
 * Starts relaying between `client` and `server`, inspected until the host key is decided.
 * The timeout covers the whole handshake up to the server's reply.
 * @example const s = spliceInspected(ends(socket), ends(relay.stream), inspector, 15_000);
 */
export function spliceInspected(client: StreamEnds, server: StreamEnds, inspector: HandshakeInspector, timeoutMs: number): Splice {
  let resolveDecided!: (o: InspectorOutcome) => void;
  const decided = new Promise<InspectorOutcome>((r) => (resolveDecided = r));
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const destroy = () => {
    clearTimeout(timer);
    detach();
    for (const s of [client.readable, client.writable, server.readable, server.writable]) s.destroy();
    resolveDone();
  };

  const apply = (step: InspectorStep, to: Writable) => {
    for (const b of step.forward) if (b.length > 0) to.write(b);
    if (!step.outcome) return;
    clearTimeout(timer);
    detach();
    if (step.outcome.kind === "refused") {
      destroy();
    } else {
      void joinEnds(client, server).then(resolveDone);
    }
    resolveDecided(step.outcome);
  };
  const abort = (why: "client-ended" | "server-ended" | "timeout") => {
    if (inspector.outcome) return;
    const outcome = inspector.abort(why);
    detach();
    destroy();
    resolveDecided(outcome);
  };

  const onClientData = (chunk: Buffer) => apply(inspector.fromClient(chunk), server.writable);
  const onServerData = (chunk: Buffer) => apply(inspector.fromServer(chunk), client.writable);
  const onClientEnd = () => abort("client-ended");
  const onServerEnd = () => abort("server-ended");
  const listeners: [Readable | Writable, string, (...a: never[]) => void][] = [
    [client.readable, "data", onClientData],
    [server.readable, "data", onServerData],
    [client.readable, "end", onClientEnd],
    [client.readable, "close", onClientEnd],
    [client.readable, "error", onClientEnd],
    [server.readable, "end", onServerEnd],
    [server.readable, "close", onServerEnd],
    [server.readable, "error", onServerEnd],
    [client.writable, "error", onClientEnd],
    [server.writable, "error", onServerEnd],
  ];
  function detach() {
    for (const [s, ev, fn] of listeners) s.removeListener(ev, fn as (...a: unknown[]) => void);
  }
  // Errors after detaching (a reset during teardown) must not become uncaught exceptions.
  for (const s of new Set([client.readable, client.writable, server.readable, server.writable])) s.on("error", () => {});
  for (const [s, ev, fn] of listeners) s.on(ev, fn as (...a: unknown[]) => void);
  const timer = setTimeout(() => abort("timeout"), timeoutMs);
  client.readable.resume();
  server.readable.resume();
  return { decided, done, serverEnded: endOf(server.readable), destroy };
}

/**
 * Pipes `a` and `b` both ways with backpressure. The end of one direction ends only that
 * direction (half-close); a stream that breaks (closes without ending, or fails) tears all
 * four ends down. Resolves when both directions are finished either way.
 * @example await joinEnds({ readable: process.stdin, writable: process.stdout }, endsOf(relay))
 */
export function joinEnds(a: StreamEnds, b: StreamEnds): Promise<void> {
  return new Promise((resolve) => {
    let finished = 0;
    let broken = false;
    const tearDown = () => {
      if (broken) return;
      broken = true;
      for (const s of [a.readable, a.writable, b.readable, b.writable]) s.destroy();
      resolve();
    };
    const pipeOne = (from: Readable, to: Writable) => {
      let ended = false;
      from.once("end", () => {
        ended = true;
        if (++finished === 2) resolve();
      });
      from.once("close", () => (ended ? undefined : tearDown()));
      from.once("error", tearDown);
      to.once("error", tearDown);
      from.pipe(to);
    };
    pipeOne(a.readable, b.writable);
    pipeOne(b.readable, a.writable);
  });
}

/**
 * Resolves when `r` has ended or closed. A ProxyCommand must exit then: ending
 * process.stdout does not close its descriptor, so the client would wait for EOF forever.
 */
export function endOf(r: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (r.readableEnded || r.destroyed) return resolve();
    r.once("end", () => resolve());
    r.once("close", () => resolve());
  });
}

/** The ends of a Duplex. */
export const endsOf = (d: Readable & Writable): StreamEnds => ({ readable: d, writable: d });
