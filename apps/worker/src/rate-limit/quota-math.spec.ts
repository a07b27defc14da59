import { worstWindow } from '../../../../test/support/quota-math';
import { parseRateLimits } from '../config/rate-limits';
import { earliestSlot, fitsAt } from './quota-math';

describe('parseRateLimits', () => {
  it('parses any list of count/window, sorted by width', () => {
    expect(parseRateLimits('500/10m, 60/1m')).toEqual([
      { count: 60, windowMs: 60_000 },
      { count: 500, windowMs: 600_000 },
    ]);
    expect(parseRateLimits('6/1s,50/10s,1/250ms,1000/1h')).toEqual([
      { count: 1, windowMs: 250 },
      { count: 6, windowMs: 1000 },
      { count: 50, windowMs: 10_000 },
      { count: 1000, windowMs: 3_600_000 },
    ]);
    expect(parseRateLimits('5/2')).toEqual([{ count: 5, windowMs: 2000 }]);
  });

  it('rejects what it cannot read', () => {
    expect(() => parseRateLimits('60 per minute')).toThrow('is not count/window');
    expect(() => parseRateLimits('0/1m')).toThrow('positive');
    expect(() => parseRateLimits(' , ')).toThrow('at least one');
  });
});

describe('earliestSlot', () => {
  const limits = parseRateLimits('3/1s,5/10s');

  it('is now while every window has room', () => {
    expect(earliestSlot([], 1000, limits)).toBe(1000);
    expect(earliestSlot([900, 950], 1000, limits)).toBe(1000);
  });

  it('waits for the count-th most recent entry to leave each window', () => {
    expect(earliestSlot([100, 200, 300], 400, limits)).toBe(1100);
    expect(earliestSlot([0, 1000, 2000, 3000, 4000], 4500, limits)).toBe(10_000);
  });

  it('never goes before the latest entry, the cooldown, and adds the safety margin', () => {
    expect(earliestSlot([5000], 1000, limits)).toBe(5000);
    expect(earliestSlot([], 1000, limits, 7000)).toBe(7000);
    expect(earliestSlot([100, 200, 300], 400, limits, 0, 50)).toBe(1150);
  });

  it('keeps every sliding window within its count, the fallacy of fixed windows included', () => {
    const minute = parseRateLimits('60/1m');
    const sends: number[] = [];
    for (let i = 0; i < 200; i++) sends.push(earliestSlot(sends, 59_000, minute));
    expect(worstWindow(sends, 60_000)).toBe(60);
    expect(sends.filter((t) => t >= 59_000 && t < 61_000)).toHaveLength(60);
    for (let i = 1; i < sends.length; i++)
      expect(fitsAt(sends.slice(0, i), sends[i], minute)).toBe(true);
  });
});
