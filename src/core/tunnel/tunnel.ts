// A local TCP listener for one guest: every accepted connection is handed to the guest's carrier
// (splice or forward); closing drains open connections for a grace period, then ends them.
import net from "node:net";
import type { GuestConfig, HostPort } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import { OperationError } from "../errors.ts";
import type { BackoffPolicy } from "./backoff.ts";
import type { Carrier } from "./carrier.ts";
import { openForwardCarrier } from "./forward-carrier.ts";
import type { HypervisorPool } from "./hypervisor-pool.ts";
import { openSpliceCarrier } from "./splice-carrier.ts";
import { errnoText } from "../errno-text.ts";

export interface TunnelHandle {
  readonly guest: string;
  readonly mode: GuestConfig["mode"];
  readonly address: HostPort;
  /** Connections currently carried. */
  readonly active: number;
  /** Stops accepting, waits up to `graceMs` for open connections, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

export interface TunnelOptions {
  /** Reconnection backoff of forward mode's guest session (tests shorten it); default 0.5 s → 30 s. */
  backoff?: BackoffPolicy;
}

/**
 * Verifies the path to the guest (as its mode defines), then listens: "ready" means a client
 * can be served now. A failure at start rejects with the hop's typed error and leaves nothing
 * listening.
 */
export async function openTunnel(guest: GuestConfig, pool: HypervisorPool, io: EngineIO, opts: TunnelOptions = {}): Promise<TunnelHandle> {
  const carrier = guest.mode === "forward"
    ? await openForwardCarrier(guest, pool, io, opts.backoff)
    : await openSpliceCarrier(guest, pool, io);
  return listen(guest, carrier, io);
}

/** Listens on the guest's `listen` address and hands each connection to `carrier`. */
export async function listen(guest: GuestConfig, carrier: Carrier, io: EngineIO): Promise<TunnelHandle> {
  const sockets = new Set<net.Socket>();
  let drained: (() => void) | undefined;
  const accept = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) drained?.();
    });
    // A reset client must not crash the process; the carrier tears the pair down on errors.
    socket.on("error", () => {});
    void carrier.serve(socket);
  };

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, accept);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: guest.listen.host, port: guest.listen.port }, () => resolve());
    });
  } catch (e) {
    carrier.close();
    const err = e as NodeJS.ErrnoException;
    throw new OperationError("listen", `tunnel ${guest.name}: cannot listen on ${guest.listen.host}:${guest.listen.port}: ${errnoText(err)}`, {
      hint: err.code === "EADDRINUSE" ? "choose another `listen` port, or 0 for any free port" : undefined,
    });
  }
  const addr = server.address() as net.AddressInfo;
  io.log({ level: "info", event: "listening", guest: guest.name, detail: `${addr.address}:${addr.port} (${guest.mode})` });

  let closing: Promise<void> | undefined;
  const close = async (graceMs: number) => {
    const stopped = new Promise<void>((r) => server.close(() => r()));
    carrier.stopReconnecting();
    if (sockets.size > 0 && graceMs > 0) {
      io.log({ level: "info", event: "draining", guest: guest.name, detail: `${sockets.size} open connection(s), up to ${graceMs / 1000} s` });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        drained = r;
        timer = setTimeout(r, graceMs);
      });
      clearTimeout(timer);
      drained = undefined;
      if (sockets.size > 0) io.log({ level: "warn", event: "shutdown-timeout", guest: guest.name, detail: `closing ${sockets.size} connection(s) still open` });
    }
    for (const s of sockets) s.destroy();
    carrier.close();
    await stopped;
  };

  return {
    guest: guest.name,
    mode: guest.mode,
    address: { host: addr.address, port: addr.port },
    get active() {
      return sockets.size;
    },
    close(graceMs = 0) {
      return (closing ??= close(graceMs));
    },
  };
}
