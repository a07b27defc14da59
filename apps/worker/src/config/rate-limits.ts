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
