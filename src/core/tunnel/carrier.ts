// What a tunnel does with each accepted connection, behind one small interface: splice it to
// the guest's SSH port (inspected), or forward it as a channel of ssh2vsock's own guest session.
import type net from "node:net";

export interface Carrier {
  /** Carries one accepted (paused) connection until it ends; failures are logged, never thrown. */
  serve(socket: net.Socket): Promise<void>;
  /** Shutting down: open connections may finish, but nothing is re-established. */
  stopReconnecting(): void;
  /** Closes everything the carrier holds. */
  close(): void;
}
