import Redis from 'ioredis';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../../test/support/redis';
import { sleep } from '../../../../test/support/process';
import { JandiQuotaLimiter } from './jandi-quota.limiter';
import { parseRateLimits, worstWindow } from './quota-math';

describe('JandiQuotaLimiter (real Redis)', () => {
  const prefix = uniquePrefix('quota');
  const clients: Redis[] = [];
  const limiter = (limits: string, inlineWaitMs = 0) => {
    const redis = new Redis(TEST_REDIS_URL);
    clients.push(redis);
    return new JandiQuotaLimiter(redis, {
      prefix,
      limits: parseRateLimits(limits),
      safetyMs: 0,
      inlineWaitMs,
    });
  };

  afterAll(async () => {
    await deletePrefix(TEST_REDIS_URL, prefix);
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('reserves ordered slots instead of letting a backlog retry as a herd', async () => {
    const quota = limiter('2/1s');
    const url = 'http://jandi.test/ordered';
    const first = await quota.acquire(url, 'a');
    const second = await quota.acquire(url, 'b');
    const third = await quota.acquire(url, 'c');
    const fourth = await quota.acquire(url, 'd');
    expect(first.granted && second.granted).toBe(true);
    expect(third).toMatchObject({ granted: false, at: first.now + 1000 });
    expect(fourth).toMatchObject({ granted: false, at: second.now + 1000 });
    // Asking again before the slot keeps the same reservation.
    expect(await quota.acquire(url, 'c')).toMatchObject({ granted: false, at: first.now + 1000 });
    expect(await quota.headroom(url)).toEqual([
      { limit: { count: 2, windowMs: 1000 }, remaining: 0 },
    ]);
  });

  it('keeps every sliding window exact across competing replicas', async () => {
    const limits = '3/200ms,8/1s';
    const replicas = [limiter(limits, 50), limiter(limits, 50), limiter(limits, 50)];
    const url = 'http://jandi.test/replicas';
    const sends: number[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const quota = replicas[i % replicas.length];
        for (;;) {
          const decision = await quota.acquire(url, `job-${i}`);
          if (decision.granted) return sends.push(decision.now);
          await sleep(decision.waitMs);
        }
      }),
    );
    expect(sends).toHaveLength(24);
    expect(worstWindow(sends, 200)).toBeLessThanOrEqual(3);
    expect(worstWindow(sends, 1000)).toBeLessThanOrEqual(8);
    // 24 sends at 8/1s need just over 2 s; a herd or lost slots would take far longer.
    expect(Date.now() - started).toBeLessThan(4500);
  });

  it('keeps destinations apart', async () => {
    const quota = limiter('1/10s');
    expect((await quota.acquire('http://jandi.test/busy', 'x')).granted).toBe(true);
    expect((await quota.acquire('http://jandi.test/busy', 'y')).granted).toBe(false);
    expect((await quota.acquire('http://jandi.test/quiet', 'y')).granted).toBe(true);
  });

  it('respects a cooldown and frees released reservations', async () => {
    const quota = limiter('5/1s');
    const url = 'http://jandi.test/cooldown';
    const end = await quota.coolDown(url, 300);
    const waiting = await quota.acquire(url, 'p');
    expect(waiting).toMatchObject({ granted: false, at: end });
    await quota.release(url, 'p');
    expect(await quota.coolDown(url, 10)).toBe(end);
    await sleep(end - waiting.now + 20);
    expect((await quota.acquire(url, 'q')).granted).toBe(true);
  });
});
