/** One JANDI quota: at most `count` requests in any sliding window of `windowMs`. */
export interface RateLimit {
  count: number;
  windowMs: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "60/1m,500/10m" (units ms, s, m, h; a bare number is seconds). */
export function parseRateLimits(text: string): RateLimit[] {
  const limits = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(part);
      if (!match) throw new Error(`"${part}" is not count/window (e.g. 60/1m)`);
      const count = Number(match[1]);
      const windowMs = Math.round(Number(match[2]) * UNIT_MS[match[3] ?? 's']);
      if (count < 1 || windowMs < 1)
        throw new Error(`"${part}" must have a positive count and window`);
      return { count, windowMs };
    });
  if (limits.length === 0) throw new Error('needs at least one count/window');
  return limits.sort((a, b) => a.windowMs - b.windowMs);
}

export function formatRateLimit(limit: RateLimit): string {
  return `${limit.count}/${limit.windowMs}ms`;
}

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

/** Largest number of times inside any half-open window [x, x + windowMs). */
export function worstWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let worst = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) start++;
    worst = Math.max(worst, end - start + 1);
  }
  return worst;
}

/** The fastest schedule the limits allow for n requests from `start`: its duration in ms. */
export function idealDurationMs(n: number, limits: readonly RateLimit[], start = 0): number {
  const sent: number[] = [];
  for (let i = 0; i < n; i++) sent.push(earliestSlot(sent.slice(-1000), start, limits));
  return n === 0 ? 0 : sent[n - 1] - start;
}
