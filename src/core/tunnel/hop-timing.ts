// Connection timing for a hop: the configured values or the documented defaults
// (connect 15 s, keepalive every 15 s, 3 unanswered probes end the session).
import type { HopConfig } from "../config/types.ts";
import type { HopTiming } from "../ssh/hop.ts";

export function hopTiming(hop: HopConfig): HopTiming {
  return {
    readyTimeoutMs: hop.connectTimeoutMs ?? 15_000,
    keepaliveIntervalMs: hop.keepaliveIntervalMs ?? 15_000,
    keepaliveCountMax: hop.keepaliveCountMax ?? 3,
  };
}
