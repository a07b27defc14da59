import { parseRateLimits } from '../config/rate-limits';
import {
  enqueuedAtOf,
  eventsPerMessageNeeded,
  messagesWithin,
  pooledPollMs,
  poolScore,
  shouldPool,
} from './digest-policy';

const settings = { enabled: true, latencyTargetMs: 60_000, maxEvents: 50 };

describe('shouldPool', () => {
  it('keeps one message per event while the reserved slot is within the target', () => {
    expect(shouldPool(settings, 0, null)).toBe(false);
    expect(shouldPool(settings, 0, 60_000)).toBe(false);
    expect(shouldPool(settings, 0, 60_001)).toBe(true);
  });

  it('joins a pool that is already forming, and never when disabled', () => {
    expect(shouldPool(settings, 1, null)).toBe(true);
    expect(shouldPool({ ...settings, enabled: false }, 10, 999_999)).toBe(false);
  });
});

describe('pool scores', () => {
  it('orders failures before everything else, then oldest first', () => {
    const t = Date.parse('2026-11-30T09:00:00Z');
    const scores = [poolScore(false, t), poolScore(true, t + 5000), poolScore(false, t - 1)];
    expect([...scores].sort((a, b) => a - b)).toEqual([scores[1], scores[2], scores[0]]);
    expect(scores.map(enqueuedAtOf)).toEqual([t, t + 5000, t - 1]);
  });
});

describe('backlog arithmetic', () => {
  const real = parseRateLimits('60/1m,500/10m');

  it('counts the messages a quota lets through within a time', () => {
    expect(messagesWithin(0, real)).toBe(60);
    expect(messagesWithin(60_000, real)).toBe(120);
    // 500 in the first ten minutes, then 60 more each minute as the first ones age out.
    expect(messagesWithin(12 * 60_000, real)).toBe(680);
    expect(messagesWithin(3000, parseRateLimits('6/1s,50/10s'))).toBe(24);
  });

  it('sizes digests for a month-end burst', () => {
    // 10,000 events one per message take about 3 h 20 min at 500/10 min ...
    expect(messagesWithin(200 * 60_000, real)).toBeGreaterThanOrEqual(10_000);
    expect(messagesWithin(195 * 60_000, real)).toBeLessThan(10_000);
    // ... and need 84 per message to land within a minute, 15 within 12 minutes.
    expect(eventsPerMessageNeeded(10_000, 60_000, real)).toBe(84);
    expect(eventsPerMessageNeeded(10_000, 12 * 60_000, real)).toBe(15);
    // The month-end case the digest renderer is sized for (to-jandi-digest.spec).
    expect(eventsPerMessageNeeded(9940, 120_000, real)).toBe(56);
  });

  it('polls pooled jobs at the target, within 1 s and 30 s', () => {
    expect(pooledPollMs(3000)).toBe(3000);
    expect(pooledPollMs(0)).toBe(1000);
    expect(pooledPollMs(60_000)).toBe(30_000);
  });
});
