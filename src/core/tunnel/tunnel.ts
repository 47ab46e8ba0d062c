// A local TCP listener whose every accepted connection becomes a direct-tcpip channel on the
// verified guest session to the guest-side target; a dead session is re-established in the background.
import net from "node:net";
import type { GuestConfig, HostPort } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import { OperationError } from "../errors.ts";
import { connectGuest, type GuestSession } from "./guest-session.ts";
import { hopTiming } from "./hop-timing.ts";
import type { HypervisorPool } from "./hypervisor-pool.ts";
import { joinStreams } from "./pipe.ts";
import { SessionKeeper } from "./session-keeper.ts";
import type { BackoffPolicy } from "./backoff.ts";

export interface TunnelHandle {
  readonly guest: string;
  readonly address: HostPort;
  /** Connections currently forwarded. */
  readonly active: number;
  /** Stops accepting, waits up to `graceMs` for open connections, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

export interface TunnelOptions {
  /** Reconnection backoff (tests shorten it); default 0.5 s → 30 s. */
  backoff?: BackoffPolicy;
}

/**
 * Connects and verifies both hops, then listens: "ready" means a client can be served now.
 * A failure at start rejects with the hop's typed error and leaves nothing listening.
 * Later, when the session dies, the listener stays open, the connections it carried are
 * closed, and the session is reopened with backoff; a client arriving meanwhile waits for it
 * (up to the guest's connect timeout).
 */
export async function openTunnel(guest: GuestConfig, pool: HypervisorPool, io: EngineIO, opts: TunnelOptions = {}): Promise<TunnelHandle> {
  const sockets = new Set<net.Socket>();
  // Which connections ride on which session, so a lost session closes exactly its own.
  const riders = new Map<GuestSession, Set<net.Socket>>();
  const keeper = await SessionKeeper.open<GuestSession>({
    guest: guest.name,
    connect: () => connectGuest(guest, pool, io),
    log: io.log,
    backoff: opts.backoff,
    onLost: (s) => {
      for (const socket of riders.get(s) ?? []) socket.destroy();
      riders.delete(s);
    },
  });
  const waitMs = hopTiming(guest.hop).readyTimeoutMs;
  let drained: (() => void) | undefined;

  const serve = async (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) drained?.();
    });
    // A reset client must not crash the process; the pipe tears the pair down on errors.
    socket.on("error", () => {});
    try {
      const s = await withTimeout(keeper.current(), waitMs, `guest session not re-established within ${waitMs / 1000} s`);
      if (socket.destroyed) return;
      const channel = await s.hop.forwardOut(guest.target.host, guest.target.port);
      const mine = riders.get(s) ?? new Set<net.Socket>();
      riders.set(s, mine);
      mine.add(socket);
      socket.once("close", () => mine.delete(socket));
      socket.resume();
      await joinStreams(socket, channel);
    } catch (e) {
      io.log({ level: "error", event: "forward", guest: guest.name, detail: (e as Error).message });
      socket.destroy();
    }
  };

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => void serve(s));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: guest.listen.host, port: guest.listen.port }, () => resolve());
    });
  } catch (e) {
    keeper.close();
    const err = e as NodeJS.ErrnoException;
    throw new OperationError("listen", `tunnel ${guest.name}: cannot listen on ${guest.listen.host}:${guest.listen.port}: ${err.code ?? err.message}`, {
      hint: err.code === "EADDRINUSE" ? "choose another `listen` port, or 0 for any free port" : undefined,
    });
  }
  const addr = server.address() as net.AddressInfo;
  io.log({ level: "info", event: "listening", guest: guest.name, detail: `${addr.address}:${addr.port}` });

  let closing: Promise<void> | undefined;
  const close = async (graceMs: number) => {
    const stopped = new Promise<void>((r) => server.close(() => r()));
    // Shutting down: a session lost now ends its connections instead of being re-established.
    keeper.stopReconnecting();
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
    keeper.close();
    await stopped;
  };

  return {
    guest: guest.name,
    address: { host: addr.address, port: addr.port },
    get active() {
      return sockets.size;
    },
    close(graceMs = 0) {
      return (closing ??= close(graceMs));
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
