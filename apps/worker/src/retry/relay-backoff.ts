import type { BackoffStrategy } from 'bullmq';

export interface BackoffSettings {
  ceilingMs: number;
  /** 0..1: the share of each delay that is random. */
  jitter: number;
}

/**
 * The contract's RELAY_BACKOFF_TYPE: delay · 2^(attempt-1), capped by the ceiling, of which a
 * `jitter` share is random so that replicas retrying after an outage do not stampede. Pure
 * apart from `random`.
 */
export function relayBackoffDelay(
  attemptsMade: number,
  baseDelayMs: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number {
  const exponential = baseDelayMs * 2 ** Math.max(0, attemptsMade - 1);
  const capped = Math.min(settings.ceilingMs, exponential);
  return Math.round(capped * (1 - settings.jitter) + capped * settings.jitter * random());
}

/** Worker `settings.backoffStrategy` for RELAY_BACKOFF_TYPE: the base delay is the job's own. */
export function relayBackoffStrategy(settings: BackoffSettings): BackoffStrategy {
  return (attemptsMade, _type, _error, job) => {
    const backoff = job?.opts.backoff;
    const base = typeof backoff === 'object' && backoff.delay !== undefined ? backoff.delay : 5000;
    return relayBackoffDelay(attemptsMade, base, settings);
  };
}
