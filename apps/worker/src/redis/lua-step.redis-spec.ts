import Redis from 'ioredis';
import { TEST_REDIS_URL } from '../../../../test/support/redis';
import { runScript, runStep } from './lua-step';

describe('runScript (real Redis, auto-pipelined as the worker connects)', () => {
  const redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
  let n = 0;
  const fresh = () => `spec_${process.pid}_${Date.now()}_${++n}`;

  afterAll(() => redis.disconnect());

  it('runs a script first used in the same tick as other commands, many times over (the first call is also how a restarted Redis is met: NOSCRIPT)', async () => {
    const name = fresh();
    const lua = () => `return {KEYS[1], ARGV[1], '${name}'}`;
    // The tick's pipeline exists before the script's first call: jobs that start together.
    const replies = await Promise.all([
      redis.ping(),
      ...[1, 2, 3].map((i) => runScript(redis, name, lua, [`k${i}`], [i])),
      redis.ping(),
    ]);
    expect(replies).toEqual([
      'PONG',
      ['k1', '1', name],
      ['k2', '2', name],
      ['k3', '3', name],
      'PONG',
    ]);
  });

  it('runs a step on its own with its keys and args as SK and SA', async () => {
    const step = { name: fresh(), lua: 'return {SK[1], SA[1], #SK, #SA}', keys: ['x'], args: [7] };
    expect(await Promise.all([redis.ping(), runStep(redis, step)])).toEqual([
      'PONG',
      ['x', '7', 1, 1],
    ]);
  });

  it('passes a script error through, not as NOSCRIPT', async () => {
    await expect(
      runScript(redis, fresh(), () => `return redis.call('NOPE')`, [], []),
    ).rejects.toThrow(/Unknown Redis command|unknown command/i);
  });
});
