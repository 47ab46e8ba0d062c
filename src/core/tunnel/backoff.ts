// Reconnection delays: exponential growth from a base to a cap, with "full jitter" so that many
// tunnels that lost the same hypervisor do not all knock on its door at the same instant.

export interface BackoffPolicy {
  /** Delay ceiling before the first retry (ms). */
  baseMs: number;
  /** Upper bound of any delay (ms). */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
}

/** 0.5 s, 1 s, 2 s, … up to 30 s (before jitter). */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000, factor: 2 };

/**
 * The delay before reconnection attempt `attempt` (1-based): the exponential ceiling
 * `min(max, base * factor^(attempt-1))`, scaled by `random()` into [ceiling/2, ceiling] so it
 * stays bounded below (never a tight loop) and above (never more than `maxMs`).
 * @example backoffDelay(1, DEFAULT_BACKOFF, () => 1) === 500
 * @example backoffDelay(10, DEFAULT_BACKOFF, () => 1) === 30_000
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  // Exponent capped so the arithmetic never overflows to Infinity on very long outages.
  const ceiling = Math.min(policy.maxMs, policy.baseMs * Math.pow(policy.factor, Math.min(n - 1, 64)));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}
