import Redis from 'ioredis';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../../test/support/redis';
import { sleep } from '../../../../test/support/process';
import { JandiQuotaLimiter } from './jandi-quota.limiter';
import { worstWindow } from '../../../../test/support/quota-math';
import { parseRateLimits } from '../config/rate-limits';

describe('JandiQuotaLimiter (real Redis)', () => {
  const prefix = uniquePrefix('quota');
  const clients: Redis[] = [];
  const limiter = (limits: string, inlineWaitMs = 0, sendMs = 2500) => {
    const redis = new Redis(TEST_REDIS_URL);
    clients.push(redis);
    return new JandiQuotaLimiter(redis, {
      prefix,
      limits: parseRateLimits(limits),
      safetyMs: 0,
      sendMs,
      lateMs: sendMs,
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
    if (!first.granted || !second.granted) throw new Error('first two should be granted');
    // Unanswered sends count in every window: the next slot is a full window away.
    expect(await quota.acquire(url, 'early')).toMatchObject({ granted: false, waitMs: 1000 });
    await quota.release(url, 'early');
    await quota.settle(url, first.sendId);
    await quota.settle(url, second.sendId);
    const [firstAt, secondAt] = await clients[0]
      .zrange(`${quota.keyOf(url)}:sent`, 0, -1, 'WITHSCORES')
      .then((r) => [Number(r[1]), Number(r[3])]);
    const third = await quota.acquire(url, 'c');
    const fourth = await quota.acquire(url, 'd');
    expect(third).toMatchObject({ granted: false, at: firstAt + 1000 });
    expect(fourth).toMatchObject({ granted: false, at: secondAt + 1000 });
    // Asking again before the slot keeps the same reservation.
    expect(await quota.acquire(url, 'c')).toMatchObject({ granted: false, at: firstAt + 1000 });
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
          if (decision.granted) {
            sends.push(decision.now);
            return quota.settle(url, decision.sendId);
          }
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
    const busy = await quota.acquire('http://jandi.test/busy', 'x');
    if (busy.granted) await quota.settle('http://jandi.test/busy', busy.sendId);
    expect(busy.granted).toBe(true);
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

  it('lets a priority member reserve ahead of held slots, and frees an abandoned send', async () => {
    const quota = limiter('2/1s');
    const url = 'http://jandi.test/priority';
    for (const member of ['a', 'b']) {
      let sent = await quota.acquire(url, member);
      while (!sent.granted) {
        await sleep(sent.waitMs);
        sent = await quota.acquire(url, member);
      }
      await quota.settle(url, sent.sendId);
    }
    const held = [];
    for (const member of ['c', 'd', 'e']) held.push(await quota.acquire(url, member));
    const [c, , e] = held.map((d) => (d.granted ? 0 : d.at));
    expect(e).toBeGreaterThanOrEqual(c + 1000);
    const normal = await quota.acquire(url, 'f');
    const priority = await quota.acquire(url, 'digest', true);
    expect(normal).toMatchObject({ granted: false });
    expect(priority).toMatchObject({ granted: false });
    if (normal.granted || priority.granted) return;
    expect(normal.at).toBeGreaterThan(e);
    expect(priority.at).toBeLessThanOrEqual(c);

    const lone = 'http://jandi.test/abandon';
    const unused = await quota.acquire(lone, 'digest', true);
    if (!unused.granted) throw new Error('an idle URL grants at once');
    await quota.abandon(lone, unused.sendId);
    expect((await quota.acquire(lone, 'next')).granted).toBe(true);
  });

  it('counts every grant of a shared member, even two in the same millisecond', async () => {
    const replicas = [limiter('2/1s'), limiter('2/1s')];
    await Promise.all(replicas.map((q) => q.headroom('http://jandi.test/warm-up')));
    for (let i = 0; i < 20; i++) {
      const url = `http://jandi.test/shared-member-${i}`;
      const grants = await Promise.all(replicas.map((q) => q.acquire(url, 'digest', true)));
      const ids = grants.flatMap((g) => (g.granted ? [g.sendId] : []));
      expect(new Set(ids).size).toBe(ids.length);
      expect(await clients[0].zcard(`${replicas[0].keyOf(url)}:flight`)).toBe(ids.length);
    }
  });

  it('sets a stamp only with a grant, and tells what it held before', async () => {
    const quota = limiter('1/1s');
    const url = 'http://jandi.test/stamped';
    const redis = clients[clients.length - 1];
    const stamp = { key: `${prefix}:stamp-1`, seconds: 60 };
    const first = await quota.acquire(url, 'a', false, stamp);
    expect(first).toMatchObject({ granted: true, stampedOver: null });
    expect(await redis.get(stamp.key)).toBe('a');
    expect(await redis.ttl(stamp.key)).toBeGreaterThan(55);
    const other = { key: `${prefix}:stamp-2`, seconds: 60 };
    expect(await quota.acquire(url, 'b', false, other)).toMatchObject({ granted: false });
    expect(await redis.exists(other.key)).toBe(0);
    await quota.release(url, 'b');
    const again = await quota.acquire('http://jandi.test/stamped-2', 'c', false, stamp);
    expect(again).toMatchObject({ granted: true, stampedOver: 'a' });
    expect(await redis.get(stamp.key)).toBe('c');
  });

  it('runs a gate before a grant in one script: a stop grants nothing, a go grants as usual', async () => {
    const quota = limiter('1/1s');
    const url = 'http://jandi.test/gated';
    const redis = clients[clients.length - 1];
    const flag = `${prefix}:gate-flag`;
    // Goes on only while the flag is unset, and tells the value it saw with an argument.
    const gate = {
      name: 'testGate',
      lua: `local v = redis.call('GET', SK[1]); return {v and 0 or 1, v or 'unset', SA[1]}`,
      keys: [flag],
      args: ['seen'],
    };
    const stamp = { key: `${prefix}:gated-stamp`, seconds: 60 };
    await redis.set(flag, 'stop');
    expect(await quota.acquireAfter(gate, url, 'a', stamp)).toEqual({
      gate: [0, 'stop', 'seen'],
      decision: null,
    });
    expect(await redis.exists(stamp.key)).toBe(0);
    expect(await quota.headroom(url)).toEqual([expect.objectContaining({ remaining: 1 })]);

    await redis.del(flag);
    const go = await quota.acquireAfter(gate, url, 'a', stamp);
    expect(go).toEqual({
      gate: [1, 'unset', 'seen'],
      decision: expect.objectContaining({ granted: true, stampedOver: null }),
    });
    expect(await redis.get(stamp.key)).toBe('a');
    // Refused: the reply still carries the gate's part after a shorter decision.
    expect(await quota.acquireAfter(gate, url, 'b', stamp)).toEqual({
      gate: [1, 'unset', 'seen'],
      decision: expect.objectContaining({ granted: false }),
    });
  });

  it('runs a step with every fate of a send, in the same script as its settle or abandon', async () => {
    const quota = limiter('1/1s', 0, 300);
    const redis = clients[clients.length - 1];
    const step = (key: string) => ({
      name: 'testThen',
      lua: `redis.call('SET', SK[1], SA[1])`,
      keys: [key],
      args: ['done'],
    });
    const cases = [
      ['answered', 1],
      ['not-sent', 0],
      ['unknown', 0],
    ] as const;
    for (const [fate, settled] of cases) {
      const url = `http://jandi.test/then-${fate}`;
      const grant = await quota.acquire(url, 'a');
      if (!grant.granted) throw new Error('an idle URL grants at once');
      const key = `${prefix}:then-${fate}`;
      await quota.finish(url, grant.sendId, fate, step(key));
      expect(await redis.get(key)).toBe('done');
      expect(await redis.zcard(`${quota.keyOf(url)}:sent`)).toBe(settled);
      // Only a send of unknown fate stays in flight.
      expect(await redis.zcard(`${quota.keyOf(url)}:flight`)).toBe(fate === 'unknown' ? 1 : 0);
    }
  });

  it('counts a send of unknown fate until its flight deadline, and frees one never sent', async () => {
    const quota = limiter('1/1s', 0, 300);
    const url = 'http://jandi.test/fates';
    const lost = await quota.acquire(url, 'a');
    if (!lost.granted) throw new Error('an idle URL grants at once');
    // A grant leaves at most sendMs to send, measured from before it was asked for.
    expect(lost.sendBy - performance.now()).toBeLessThanOrEqual(300);
    await quota.finish(url, lost.sendId, 'unknown');
    await sleep(700);
    // JANDI may have counted it as late as grant + sendMs + lateMs.
    expect(await quota.acquire(url, 'b')).toMatchObject({ granted: false, at: lost.now + 1600 });
    await quota.release(url, 'b');

    const other = 'http://jandi.test/not-sent';
    const unsent = await quota.acquire(other, 'c');
    if (!unsent.granted) throw new Error('an idle URL grants at once');
    await quota.finish(other, unsent.sendId, 'not-sent');
    expect((await quota.acquire(other, 'd')).granted).toBe(true);
  });

  it('counts a request that left after its deadline again, from when it left', async () => {
    const quota = limiter('1/1s', 0, 300);
    const url = 'http://jandi.test/left-late';
    const frozen = await quota.acquire(url, 'a');
    if (!frozen.granted) throw new Error('an idle URL grants at once');
    await sleep(700);
    // Past its deadline (grant + 600 ms): scored as sent then; the window frees 1 s later.
    expect(await quota.acquire(url, 'b')).toMatchObject({ granted: false, at: frozen.now + 1600 });
    await quota.release(url, 'b');
    // Its bytes leave only now: it counts in every window until JANDI may last count it.
    await quota.leftLate(url, frozen.sendId);
    const after = await quota.acquire(url, 'c');
    expect(after.granted).toBe(false);
    if (after.granted) return;
    expect(after.at).toBeGreaterThan(frozen.now + 1600);
    await quota.release(url, 'c');
    // Answered: it counts from its answer, like any settled send.
    await quota.settle(url, frozen.sendId);
    const settled = await quota.acquire(url, 'd');
    if (settled.granted) throw new Error('a send answered just now fills the window');
    expect(settled.at).toBeGreaterThanOrEqual(settled.now + 900);
  });

  it('lets the keys of an idle destination expire, never before their entries leave every window', async () => {
    const quota = limiter('1/1s,2/3s', 0, 500);
    const url = 'http://jandi.test/idle';
    const key = quota.keyOf(url);
    const redis = clients[clients.length - 1];
    const sent = await quota.acquire(url, 'a');
    if (!sent.granted) throw new Error('first should be granted');
    // In flight: counts until its deadline (2 × 500 ms) and then a whole window (3 s).
    const flightTtl = await redis.pttl(`${key}:flight`);
    expect(flightTtl).toBeGreaterThan(3000 + 1000);
    expect(flightTtl).toBeLessThanOrEqual(3000 + 1000 + 1000);
    expect(await quota.acquire(url, 'b')).toMatchObject({ granted: false });
    const heldTtl = await redis.pttl(`${key}:held`);
    expect(heldTtl).toBeGreaterThan(3000);
    await quota.settle(url, sent.sendId);
    const sentTtl = await redis.pttl(`${key}:sent`);
    expect(sentTtl).toBeGreaterThan(3000);
    expect(sentTtl).toBeLessThanOrEqual(3000 + 1000);
  });
});
