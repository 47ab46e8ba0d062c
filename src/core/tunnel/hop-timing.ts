// Timing read from a resolved config: connect, keepalive and shutdown grace, falling back to
// the schema's documented defaults for configs built without them (ad-hoc, tests).
import { DEFAULTS } from "../config/schema.ts";
import type { GuestConfig, HopConfig } from "../config/types.ts";
import type { HopTiming } from "../ssh/hop.ts";

/** Connect timeout and keepalive for one hop. */
export function hopTiming(hop: HopConfig): HopTiming {
  return {
    readyTimeoutMs: hop.connectTimeoutMs ?? DEFAULTS.connectTimeoutSeconds * 1000,
    keepaliveIntervalMs: hop.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalSeconds * 1000,
    keepaliveCountMax: hop.keepaliveCountMax ?? DEFAULTS.keepaliveCountMax,
  };
}

/** How long SIGTERM lets a guest's open connections finish (`shutdown_timeout`). */
export function shutdownGraceMs(guest: GuestConfig): number {
  return guest.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutSeconds * 1000;
}
