// A local TCP listener whose every accepted connection becomes a direct-tcpip channel on the
// verified guest session to the guest-side target; the session is reopened when it has died.
import net from "node:net";
import type { GuestConfig, HostPort } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import { OperationError } from "../errors.ts";
import { connectGuest, type GuestSession } from "./guest-session.ts";
import type { HypervisorPool } from "./hypervisor-pool.ts";
import { joinStreams } from "./pipe.ts";

export interface TunnelHandle {
  readonly guest: string;
  readonly address: HostPort;
  /** Connections currently forwarded. */
  readonly active: number;
  /** Stops accepting, waits up to `graceMs` for open connections, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Connects and verifies both hops, then listens: "ready" means a client can be served now.
 * A failure at start rejects with the hop's typed error and leaves nothing listening.
 */
export async function openTunnel(guest: GuestConfig, pool: HypervisorPool, io: EngineIO): Promise<TunnelHandle> {
  let session: Promise<GuestSession> = connectGuest(guest, pool, io);
  await session;
  const sockets = new Set<net.Socket>();

  const liveSession = async (): Promise<GuestSession> => {
    const current = await session.catch(() => undefined);
    if (current?.hop.isOpen) return current;
    io.log({ level: "warn", event: "reconnect", guest: guest.name, detail: "guest session closed; reconnecting" });
    const next = connectGuest(guest, pool, io);
    session = next;
    return next;
  };

  const serve = async (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.pause();
    try {
      const s = await liveSession();
      const channel = await s.hop.forwardOut(guest.target.host, guest.target.port);
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
    (await session).close();
    const err = e as NodeJS.ErrnoException;
    throw new OperationError("listen", `tunnel ${guest.name}: cannot listen on ${guest.listen.host}:${guest.listen.port}: ${err.code ?? err.message}`, {
      hint: err.code === "EADDRINUSE" ? "choose another `listen` port, or 0 for any free port" : undefined,
    });
  }
  const addr = server.address() as net.AddressInfo;
  io.log({ level: "info", event: "listening", guest: guest.name, detail: `${addr.address}:${addr.port}` });

  return {
    guest: guest.name,
    address: { host: addr.address, port: addr.port },
    get active() {
      return sockets.size;
    },
    async close(graceMs = 0) {
      const stopped = new Promise<void>((r) => server.close(() => r()));
      if (sockets.size > 0 && graceMs > 0) {
        await Promise.race([
          new Promise<void>((r) => {
            const check = setInterval(() => {
              if (sockets.size === 0) {
                clearInterval(check);
                r();
              }
            }, 50);
          }),
          new Promise<void>((r) => setTimeout(r, graceMs)),
        ]);
      }
      for (const s of sockets) s.destroy();
      (await session.catch(() => undefined))?.close();
      await stopped;
    },
  };
}
