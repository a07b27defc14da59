import { RELAY_QUEUE } from '@app/contracts';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import Redis from 'ioredis';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../../test/support/redis';
import { WorkerMetrics } from '../metrics/worker.metrics';
import { DeadLetterPruner } from './dead-letter-pruner';

const DAY_MS = 86_400_000;

describe('DeadLetterPruner (real Redis)', () => {
  const prefix = uniquePrefix('prune');
  const connection = { url: TEST_REDIS_URL };
  const queue = new Queue(RELAY_QUEUE, { connection, prefix });
  const redis = new Redis(TEST_REDIS_URL);
  const metrics = new WorkerMetrics();
  const pruner = (retentionDays: number, max: number) =>
    new DeadLetterPruner({ deadLetters: { retentionDays, max } }, queue, redis, metrics);

  /** Dead-letters jobs `ids` in order, so the first is the oldest. */
  async function deadLetter(ids: string[]): Promise<void> {
    for (const id of ids) await queue.add('test', { id }, { jobId: id, removeOnFail: false });
    const worker = new Worker(
      RELAY_QUEUE,
      async () => {
        throw new UnrecoverableError('JANDI rejected: HTTP 400 code 40000');
      },
      { connection, prefix, concurrency: 1, autorun: false },
    );
    let failed = 0;
    const all = new Promise<void>((resolve) =>
      worker.on('failed', () => ++failed === ids.length && resolve()),
    );
    void worker.run();
    await all;
    await worker.close();
  }

  afterAll(async () => {
    await queue.close();
    redis.disconnect();
    await deletePrefix(TEST_REDIS_URL, prefix);
  });

  it('removes the oldest dead letters over the limit, with their logs, and counts them', async () => {
    await deadLetter(['a1', 'a2', 'a3', 'a4', 'a5']);
    await (await queue.getJob('a1'))!.log('attempt 1 → default: HTTP 400 → dead letter');
    expect(await pruner(30, 3).prune()).toEqual({ age: 0, limit: 2 });
    const left = (await queue.getJobs(['failed'])).map((job) => job.id).sort();
    expect(left).toEqual(['a3', 'a4', 'a5']);
    expect(await queue.getJob('a1')).toBeUndefined();
    expect((await queue.getJobLogs('a1')).count).toBe(0);
    expect(await pruner(30, 3).prune()).toEqual({ age: 0, limit: 0 });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/relay_dead_letters_removed_total\{cause="limit"\} 2/);
  });

  it('removes dead letters older than the retention, and only those', async () => {
    expect(await pruner(30, 100).prune(Date.now() + 29 * DAY_MS)).toEqual({ age: 0, limit: 0 });
    expect(await pruner(30, 100).prune(Date.now() + 31 * DAY_MS)).toEqual({ age: 3, limit: 0 });
    expect(await queue.getJobCountByTypes('failed')).toBe(0);
  });

  it('leaves a job that was replayed meanwhile', async () => {
    await deadLetter(['b1', 'b2']);
    await (await queue.getJob('b1'))!.retry('failed');
    expect(await pruner(30, 1).prune(Date.now() + 31 * DAY_MS)).toEqual({ age: 1, limit: 0 });
    expect(await queue.getJobState('b1')).toBe('waiting');
  });
});
