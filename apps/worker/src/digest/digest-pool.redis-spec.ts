import Redis from 'ioredis';
import { sleep } from '../../../../test/support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../../test/support/redis';
import { runStep } from '../redis/lua-step';
import { activePoolsKey, DigestPool, eventMarkKey, readInspection, urlHash } from './digest-pool';
import { poolScore } from './digest-policy';

describe('DigestPool (real Redis)', () => {
  const prefix = uniquePrefix('digest');
  const redis = new Redis(TEST_REDIS_URL);
  const pool = new DigestPool(redis, prefix);
  const other = new DigestPool(new Redis(TEST_REDIS_URL), prefix);
  let n = 0;
  const url = () => `http://jandi.test/pool-${++n}`;
  /** The inspection a delivery's grant runs after, run on its own. */
  const inspect = async (u: string, jobId: string, eventId: string) =>
    readInspection((await runStep(redis, pool.inspection(u, jobId, eventId, true))) as unknown[]);
  const fill = async (u: string, ids: string[], failures: string[] = []) => {
    for (const [i, id] of ids.entries())
      await pool.join(u, id, id, poolScore(failures.includes(id), 1000 + i));
  };

  afterAll(async () => {
    await deletePrefix(TEST_REDIS_URL, prefix);
    redis.disconnect();
    (other as unknown as { redis: Redis }).redis.disconnect();
  });

  it('hands out failures first, then oldest, and never the same event twice', async () => {
    const u = url();
    await fill(u, ['a', 'b', 'c', 'd', 'e', 'f'], ['e']);
    const [first, second] = await Promise.all([pool.claim(u, 3, 5000), other.claim(u, 3, 5000)]);
    const ids = [...first.members, ...second.members].map((m) => m.jobId);
    expect(new Set(ids).size).toBe(6);
    expect(
      [first, second].find((b) => b.members[0].jobId === 'e')?.members.map((m) => m.jobId),
    ).toEqual(['e', 'a', 'b']);
    expect(await inspect(u, 'e', 'e')).toEqual({ go: false, state: 'claimed', poolSize: 0 });
  });

  it('commits an accepted batch: delivered markers, nothing left behind', async () => {
    const u = url();
    await fill(u, ['a', 'b', 'c']);
    const batch = await pool.claim(u, 2, 5000);
    const members = batch.members.map((m) => ({ jobId: m.jobId, eventId: `ev-${m.jobId}` }));
    expect(await pool.commit(u, batch.batchId, members)).toBe(0);
    expect(await redis.get(eventMarkKey(prefix, 'delivered', 'ev-a'))).toBe(
      `digest:${batch.batchId}`,
    );
    expect(await inspect(u, 'a', 'ev-a')).toEqual({
      go: false,
      state: 'delivered',
      poolSize: 0,
      mark: `digest:${batch.batchId}`,
    });
    expect(await inspect(u, 'c', 'ev-c')).toEqual({ go: false, state: 'pooled', poolSize: 1 });
    expect(await pool.join(u, 'a', 'ev-a', 1)).toBe(false);
  });

  it('releases a failed batch back in its order, or solo', async () => {
    const u = url();
    await fill(u, ['a', 'b', 'c'], ['c']);
    const batch = await pool.claim(u, 3, 5000);
    expect(await pool.release(u, batch.batchId, ['c', 'a'], { endLease: false })).toBe(2);
    expect(await pool.release(u, batch.batchId, ['b'], { endLease: true, mode: 'solo' })).toBe(1);
    expect(await inspect(u, 'b', 'b')).toEqual({ go: true, state: 'solo', poolSize: 2 });
    expect((await pool.claim(u, 5, 5000)).members.map((m) => m.jobId)).toEqual(['c', 'a']);
  });

  it("returns a dead sender's batch to the pool when its lease runs out", async () => {
    const u = url();
    await fill(u, ['a', 'b']);
    const dead = await pool.claim(u, 2, 100);
    expect((await pool.prepare(u)).poolSize).toBe(0);
    await sleep(150);
    expect(await pool.prepare(u)).toEqual({ poolSize: 2, backoffMs: 0, reaped: 2 });
    expect(await pool.renew(u, dead.batchId, 5000)).toBe(false);
    const next = await pool.claim(u, 2, 5000);
    // A late commit of the dead batch still marks its events, and reports the overlap.
    expect(await pool.commit(u, dead.batchId, [{ jobId: 'a', eventId: 'a' }])).toBe(1);
    expect(await pool.release(u, next.batchId, ['a', 'b'], { endLease: true })).toBe(2);
    expect(await inspect(u, 'a', 'a')).toMatchObject({ state: 'delivered' });
  });

  it('backs off after failures and reports the oldest waiting event', async () => {
    const u = url();
    await pool.join(u, 'x', 'x', poolScore(false, Date.now() - 5000));
    await pool.join(u, 'y', 'y', poolScore(true, Date.now() - 1000));
    const stats = await pool.stats(u);
    expect(stats.size).toBe(2);
    expect(stats.oldestAgeMs).toBeGreaterThanOrEqual(4900);
    expect(stats.oldestAgeMs).toBeLessThan(7000);
    expect(await pool.backOff(u, (f) => f * 1000)).toBe(1);
    expect(await pool.backOff(u, (f) => f * 1000)).toBe(2);
    expect((await pool.prepare(u)).backoffMs).toBeGreaterThan(1500);
  });

  it('lists a destination as active from its first pooled event until nothing is left', async () => {
    const u = url();
    const hash = urlHash(u);
    expect(await pool.active()).not.toContain(hash);
    await fill(u, ['a', 'b']);
    expect(await other.active()).toContain(hash);
    const batch = await pool.claim(u, 2, 5000);
    // Claimed but not committed: still served, so a dead sender's lease gets reaped.
    expect((await pool.prepare(u)).poolSize).toBe(0);
    expect(await pool.active()).toContain(hash);
    await pool.commit(u, batch.batchId, [
      { jobId: 'a', eventId: 'a' },
      { jobId: 'b', eventId: 'b' },
    ]);
    await pool.prepare(u);
    expect(await pool.active()).not.toContain(hash);
  });

  it('marks pools filled before the active set existed as active', async () => {
    const u = url();
    await fill(u, ['old']);
    await redis.srem(activePoolsKey(prefix), urlHash(u));
    await pool.markActive([u, url()]);
    expect(await pool.active()).toEqual(expect.arrayContaining([urlHash(u)]));
    expect(await pool.active()).not.toContain(urlHash(`http://jandi.test/pool-${n}`));
  });
});
