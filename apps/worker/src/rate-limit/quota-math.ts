import type { RateLimit } from '../config/rate-limits';

/**
 * Earliest time ≥ max(now, cooldownUntil, latest entry) at which one more request keeps every
 * window within its count: for each limit the count-th most recent entry t must satisfy
 * t + window + safety ≤ slot. `entries` are the times of sent and reserved requests, any order.
 * The Lua reservation in jandi-quota.limiter.ts is this same arithmetic.
 */
export function earliestSlot(
  entries: readonly number[],
  now: number,
  limits: readonly RateLimit[],
  cooldownUntil = 0,
  safetyMs = 0,
): number {
  const sorted = [...entries].sort((a, b) => b - a);
  let slot = Math.max(now, cooldownUntil, sorted[0] ?? now);
  for (const limit of limits) {
    const nth = sorted[limit.count - 1];
    if (nth !== undefined) slot = Math.max(slot, nth + limit.windowMs + safetyMs);
  }
  return slot;
}

/** True when a request at `at` keeps every window of sends before it within its count. */
export function fitsAt(
  sent: readonly number[],
  at: number,
  limits: readonly RateLimit[],
  safetyMs = 0,
): boolean {
  return limits.every(
    (limit) =>
      sent.filter((t) => t <= at && t > at - limit.windowMs - safetyMs).length < limit.count,
  );
}
