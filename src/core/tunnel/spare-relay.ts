// Keeps one relay to a guest open ahead of the next connection, so a client does not wait for
// the hypervisor to start socat; a spare is handed out only while it is fresh and still alive.
import type { CommandStream } from "../vsock/command-stream.ts";

/**
 * How long a spare may wait. It is a connection the guest's sshd counts as not yet
 * authenticated: sshd drops it after LoginGraceTime (120 s by default), so it is used well
 * before that and otherwise replaced by a fresh relay.
 */
export const SPARE_MAX_AGE_MS = 30_000;

interface Spare {
  relay: Promise<CommandStream>;
  openedAt: number;
  alive: boolean;
}

/**
 * One spare relay per guest. The first connection opens its own relay; from then on each
 * `take()` hands out the spare (or a new relay when the spare is stale, dead or failed) and
 * opens the next spare in the background. An idle tunnel therefore holds at most one spare,
 * which the guest closes after its LoginGraceTime.
 */
export class SpareRelay {
  #spare: Spare | undefined;
  #closed = false;

  constructor(
    private readonly open: () => Promise<CommandStream>,
    private readonly maxAgeMs = SPARE_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A relay for a new connection; failures are those of opening a relay. */
  async take(): Promise<CommandStream> {
    const spare = this.#spare;
    this.#spare = undefined;
    if (!this.#closed) this.#spare = this.#start();
    if (spare) {
      const relay = await spare.relay.catch(() => undefined);
      if (relay && spare.alive && !peerEnded(relay) && this.now() - spare.openedAt < this.maxAgeMs) return relay;
      relay?.kill();
    }
    return this.open();
  }

  /** Ends the spare; later takes open relays of their own. */
  close(): void {
    this.#closed = true;
    const spare = this.#spare;
    this.#spare = undefined;
    void spare?.relay.then((r) => r.kill(), () => {});
  }

  #start(): Spare {
    const spare: Spare = { relay: this.open(), openedAt: this.now(), alive: true };
    spare.relay.then(
      (r) => {
        void r.exited.then(() => (spare.alive = false));
        // Closed meanwhile: nobody will take it.
        if (this.#closed && this.#spare !== spare) r.kill();
      },
      () => (spare.alive = false),
    );
    return spare;
  }
}

/**
 * Whether the far side has already ended a waiting relay. A paused stream emits neither `end`
 * nor (for an ssh2 channel whose session died) `close` until its buffered banner is read, so
 * the stream's own state is asked: `ended` is set as soon as the end arrives.
 */
function peerEnded(relay: CommandStream): boolean {
  const s = relay.stream as CommandStream["stream"] & { _readableState?: { ended?: boolean } };
  return s.destroyed || s.readableEnded || s._readableState?.ended === true;
}
