// Splice mode: every accepted connection gets its own relay to the guest's SSH port through the
// shared hypervisor session; the inspector checks the guest's key in the client's handshake.
import type net from "node:net";
import type { GuestConfig } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import { endsOf, type Splice } from "../handshake/splice.ts";
import type { Carrier } from "./carrier.ts";
import { guestPolicy, openGuestRelay } from "./guest-session.ts";
import { SpareRelay } from "./spare-relay.ts";
import type { HypervisorPool } from "./hypervisor-pool.ts";
import { probeGuestKey, spliceToGuest } from "./splice-path.ts";

/**
 * Verifies the path once (hypervisor session, then one probe of the guest's key), so a
 * tunnel is ready only when both hops are verified; then serves connections.
 */
export async function openSpliceCarrier(guest: GuestConfig, pool: HypervisorPool, io: EngineIO): Promise<Carrier> {
  const policy = await guestPolicy(guest, io);
  for (const w of policy.warnings) io.log({ level: "warn", event: "known-hosts", guest: guest.name, detail: w });
  await probeGuestKey(guest, pool, io, policy);
  const live = new Set<Splice>();
  const spares = new SpareRelay(() => openGuestRelay(guest, pool, io));
  return {
    async serve(socket: net.Socket) {
      socket.setNoDelay(true);
      try {
        const splice = await spliceToGuest(endsOf(socket), guest, pool, io, policy, () => spares.take());
        live.add(splice);
        const outcome = await splice.decided;
        if (outcome.kind === "refused") {
          const { message, hint } = outcome.error;
          io.log({ level: "error", event: "refused", guest: guest.name, detail: hint ? `${message} (hint: ${hint})` : message });
        }
        await splice.done;
        live.delete(splice);
      } catch (e) {
        io.log({ level: "error", event: "splice", guest: guest.name, detail: (e as Error).message });
        socket.destroy();
      }
    },
    // Shutting down: connections still open may finish, but no spare waits for a new one.
    stopReconnecting: () => spares.close(),
    close() {
      spares.close();
      for (const s of live) s.destroy();
      live.clear();
    },
  };
}
