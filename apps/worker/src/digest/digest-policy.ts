import type { RateLimit } from '../config/rate-limits';
import type { DigestSettings } from '../config/worker.config';

/** Pool scores: failures (rank 0) before everything else (rank 1), then oldest first. */
const RANK_SPAN = 1e13;

export function poolScore(failure: boolean, enqueuedAtMs: number): number {
  return (failure ? 0 : RANK_SPAN) + Math.max(0, Math.min(RANK_SPAN - 1, Math.round(enqueuedAtMs)));
}

export function enqueuedAtOf(score: number): number {
  return score >= RANK_SPAN ? score - RANK_SPAN : score;
}

export const FAILURE_RANK_END = RANK_SPAN;

/**
 * Whether an event joins its destination's digest pool instead of waiting for a message of its
 * own: a pool is already forming (a burst is on), or the slot the exact limiter reserved for it
 * is further away than the latency target (the backlog ahead of it, at the quota, takes longer).
 * `slotWaitMs` is null when the limiter granted a send now.
 */
export function shouldPool(
  settings: DigestSettings,
  poolSize: number,
  slotWaitMs: number | null,
): boolean {
  if (!settings.enabled) return false;
  if (poolSize > 0) return true;
  return slotWaitMs !== null && slotWaitMs > settings.latencyTargetMs;
}

/** How often a pooled event's job looks whether its digest was accepted: often, not a herd. */
export function pooledPollMs(latencyTargetMs: number): number {
  return Math.min(30_000, Math.max(1000, latencyTargetMs));
}

/**
 * Messages the quota lets through within `ms` from a quiet start, each sent at the earliest time
 * every sliding window allows (the schedule the exact limiter produces).
 */
export function messagesWithin(ms: number, limits: readonly RateLimit[]): number {
  const sent: number[] = [];
  for (;;) {
    let at = sent.length > 0 ? sent[sent.length - 1] : 0;
    for (const limit of limits) {
      const nth = sent[sent.length - limit.count];
      if (nth !== undefined) at = Math.max(at, nth + limit.windowMs);
    }
    if (at > ms) return sent.length;
    sent.push(at);
  }
}

/** Events per message needed so that `events` are all delivered within `ms` at the quota. */
export function eventsPerMessageNeeded(
  events: number,
  ms: number,
  limits: readonly RateLimit[],
): number {
  return Math.ceil(events / messagesWithin(ms, limits));
}
