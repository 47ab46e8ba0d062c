// Opens the tunnels of several guests as one unit: all of them ready, or none left open
// (a failure closes the ones already listening and the hypervisor sessions, then rethrows).
import type { GuestConfig } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import type { HypervisorPool } from "./hypervisor-pool.ts";
import { openTunnel, type TunnelHandle, type TunnelOptions } from "./tunnel.ts";

/**
 * Opens one tunnel per guest, in the order given.
 * @example const tunnels = await openTunnels(guests, new HypervisorPool(io), io);
 */
export async function openTunnels(guests: GuestConfig[], pool: HypervisorPool, io: EngineIO, opts: TunnelOptions = {}): Promise<TunnelHandle[]> {
  const results = await Promise.allSettled(guests.map((g) => openTunnel(g, pool, io, opts)));
  const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
  if (failed) {
    for (const r of results) if (r.status === "fulfilled") await r.value.close();
    await pool.close();
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<TunnelHandle>).value);
}
