import type { RateLimit } from '../../apps/worker/src/config/rate-limits';
import { earliestSlot } from '../../apps/worker/src/rate-limit/quota-math';

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
