// Forward mode: ssh2vsock's own authenticated guest session; every accepted connection becomes
// a direct-tcpip channel to the guest-side target. A dead session is re-established with backoff.
import type net from "node:net";
import type { GuestConfig } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import { RelayError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import type { BackoffPolicy } from "./backoff.ts";
import type { Carrier } from "./carrier.ts";
import { connectGuest, type GuestSession } from "./guest-session.ts";
import { hopTiming } from "./hop-timing.ts";
import type { HypervisorPool } from "./hypervisor-pool.ts";
import { joinStreams } from "./pipe.ts";
import { SessionKeeper } from "./session-keeper.ts";

/**
 * Opens and verifies both sessions and checks once that the guest forwards to `target`, so a
 * guest that refuses forwarding fails at start (exit 6) instead of resetting every client.
 */
export async function openForwardCarrier(guest: GuestConfig, pool: HypervisorPool, io: EngineIO, backoff?: BackoffPolicy): Promise<Carrier> {
  // Which connections ride on which session, so a lost session closes exactly its own.
  const riders = new Map<GuestSession, Set<net.Socket>>();
  const keeper = await SessionKeeper.open<GuestSession>({
    guest: guest.name,
    connect: () => connectGuest(guest, pool, io),
    log: io.log,
    backoff,
    onLost: (s) => {
      for (const socket of riders.get(s) ?? []) socket.destroy();
      riders.delete(s);
    },
  });
  try {
    await checkForwarding(await keeper.current(), guest);
  } catch (e) {
    keeper.close();
    throw e;
  }
  const waitMs = hopTiming(guest.hop).readyTimeoutMs;
  return {
    async serve(socket: net.Socket) {
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
        // A refused channel's text comes from the guest.
        io.log({ level: "error", event: "forward", guest: guest.name, detail: escapePeerText((e as Error).message) });
        socket.destroy();
      }
    },
    stopReconnecting: () => keeper.stopReconnecting(),
    close: () => keeper.close(),
  };
}

async function checkForwarding(session: GuestSession, guest: GuestConfig): Promise<void> {
  const { host, port } = guest.target;
  try {
    const channel = await session.hop.forwardOut(host, port);
    channel.destroy();
  } catch (e) {
    const reason = escapePeerText((e as Error).message);
    // RFC 4254 §5.1 reason 1 is "administratively prohibited" (OpenSSH's AllowTcpForwarding no,
    // whatever its text says); tinysshd answers any direct-tcpip with a session-only message.
    const prohibited = (e as { reason?: unknown }).reason === 1 || /prohibited|only one 'session' channel/i.test(reason);
    throw new RelayError(`guest ${guest.name}: the guest does not forward to ${host}:${port}: ${reason}`, {
      hint: prohibited
        ? `this guest refuses port forwarding (AllowTcpForwarding no, tinysshd); for its SSH port use mode = "splice", which needs no forwarding`
        : `is a service listening on ${host}:${port} inside the guest?`,
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
