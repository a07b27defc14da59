import { RELAY_JOB_OPTIONS } from '@app/contracts';
import { relayBackoffDelay } from './relay-backoff';

describe('relayBackoffDelay', () => {
  const settings = { ceilingMs: 3_600_000, jitter: 0.25 };

  it('doubles from the base delay and stays within the jitter band', () => {
    expect(relayBackoffDelay(1, 5000, settings, () => 0)).toBe(3750);
    expect(relayBackoffDelay(1, 5000, settings, () => 1)).toBe(5000);
    expect(relayBackoffDelay(4, 5000, settings, () => 1)).toBe(40_000);
  });

  it('is capped by the ceiling', () => {
    expect(relayBackoffDelay(30, 5000, settings, () => 1)).toBe(3_600_000);
    expect(relayBackoffDelay(30, 5000, { ceilingMs: 60_000, jitter: 0 }, () => 0.5)).toBe(60_000);
  });

  it('rides out an outage of several hours with the contract defaults', () => {
    const attempts = RELAY_JOB_OPTIONS.attempts ?? 1;
    let total = 0;
    for (let attempt = 1; attempt < attempts; attempt++)
      total += relayBackoffDelay(attempt, 5000, settings, () => 0);
    expect(total).toBeGreaterThan(6 * 3_600_000);
  });
});
