import { parseRateLimits } from '../../apps/worker/src/config/rate-limits';
import { idealDurationMs, worstWindow } from './quota-math';

describe('worstWindow and idealDurationMs', () => {
  it('counts the fullest half-open window', () => {
    expect(worstWindow([0, 999, 1000, 1001], 1000)).toBe(3);
    expect(worstWindow([], 1000)).toBe(0);
  });

  it('gives the fastest schedule the limits allow', () => {
    expect(idealDurationMs(6, parseRateLimits('6/1s'))).toBe(0);
    expect(idealDurationMs(7, parseRateLimits('6/1s'))).toBe(1000);
    expect(idealDurationMs(51, parseRateLimits('6/1s,50/10s'))).toBe(10_000);
  });
});
