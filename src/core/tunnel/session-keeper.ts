// Keeps one long-lived session alive: when it dies, reconnects with bounded exponential backoff
// and jitter, logging each attempt, while callers asking for the session wait for the next one.
import type { LogEvent } from "../engine-io.ts";
import { OperationError } from "../errors.ts";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.ts";

/** What the keeper needs to know about a session; the tunnel passes guest sessions. */
export interface KeptSession {
  readonly isOpen: boolean;
  /** Resolves when the session has ended. */
  readonly closed: Promise<void>;
  close(): void;
}

export interface KeeperOptions<S extends KeptSession> {
  /** Guest name for log events. */
  guest: string;
  /** Opens and verifies a new session (host keys are checked again on every call). */
  connect(): Promise<S>;
  log(e: LogEvent): void;
  /** Called once when a session dies unexpectedly, before reconnecting: close its in-flight work. */
  onLost?(session: S): void;
  backoff?: BackoffPolicy;
  random?: () => number;
}

/** A session that is reopened when it dies, until close(). */
export class SessionKeeper<S extends KeptSession> {
  readonly #opts: KeeperOptions<S>;
  #session: S;
  #next: Promise<S> | undefined;
  #stopped = false;
  /** Shutting down: the current session may finish its connections, a lost one is not replaced. */
  #draining = false;
  #wake: (() => void) | undefined;
  /** Reconnection attempts made since the keeper started (tests and logs use it). */
  attempts = 0;

  private constructor(opts: KeeperOptions<S>, first: S) {
    this.#opts = opts;
    this.#session = first;
    this.#watch(first);
  }

  /**
   * Opens the first session. Its failure rejects at once (start-up must fail fast, with the
   * hop's typed error); only a session that was once up is retried.
   */
  static async open<S extends KeptSession>(opts: KeeperOptions<S>): Promise<SessionKeeper<S>> {
    return new SessionKeeper(opts, await opts.connect());
  }

  /** The live session, or the one being re-established (rejects when the keeper is closed). */
  current(): Promise<S> {
    if (this.#stopped) return Promise.reject(closedError(this.#opts.guest));
    if (this.#session.isOpen) return Promise.resolve(this.#session);
    return (this.#next ??= this.#reconnect());
  }

  /** Keeps the current session for the connections it carries, but never replaces it again. */
  stopReconnecting(): void {
    this.#draining = true;
  }

  /** Stops reconnecting and closes the current session. */
  close(): void {
    this.#stopped = true;
    this.#wake?.();
    this.#session.close();
  }

  #watch(session: S): void {
    void session.closed.then(() => {
      if (this.#stopped || session !== this.#session) return;
      if (this.#draining) {
        this.#opts.onLost?.(session);
        return;
      }
      this.#opts.log({ level: "warn", event: "session-lost", guest: this.#opts.guest, detail: "guest session ended; in-flight connections closed, reconnecting" });
      this.#opts.onLost?.(session);
      this.#next ??= this.#reconnect();
      // Callers see failures through current(); the loop itself only ends by close().
      this.#next.catch(() => {});
    });
  }

  async #reconnect(): Promise<S> {
    const { guest, log } = this.#opts;
    for (let attempt = 1; ; attempt++) {
      const delay = backoffDelay(attempt, this.#opts.backoff ?? DEFAULT_BACKOFF, this.#opts.random);
      log({ level: "warn", event: "reconnect", guest, detail: `attempt ${attempt} in ${(delay / 1000).toFixed(1)} s` });
      await this.#sleep(delay);
      if (this.#stopped) throw closedError(guest);
      this.attempts++;
      try {
        const session = await this.#opts.connect();
        if (this.#stopped) {
          session.close();
          throw closedError(guest);
        }
        this.#session = session;
        this.#next = undefined;
        this.#watch(session);
        log({ level: "info", event: "reconnected", guest, detail: `after ${attempt} attempt${attempt === 1 ? "" : "s"}` });
        return session;
      } catch (e) {
        if (this.#stopped) throw closedError(guest);
        log({ level: "warn", event: "reconnect-failed", guest, detail: `attempt ${attempt}: ${(e as Error).message}` });
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

function closedError(guest: string): OperationError {
  return new OperationError("closed", `tunnel ${guest}: closed`);
}
