import Redis from 'ioredis';
import { waitFor, type RunningApp } from '../../../test/support/process';
import { TEST_REDIS_URL } from '../../../test/support/redis';
import { digestPoolKeys } from '../src/digest/digest-pool';
import { enqueueBurst, failuresAfterOthers, isDigest, shownCounts } from './burst';
import { DEFAULT_PATH, WorkerHarness } from './worker-harness';

const TARGET_MS = 3000;
const MARGIN_MS = 5000;

describe('month-end burst folded into digests (e2e)', () => {
  const harness = new WorkerHarness('digest');
  const ports: number[] = [];
  let victim: () => RunningApp = () => {
    throw new Error('no worker started');
  };

  beforeAll(async () => {
    await harness.start();
    const env = {
      DIGEST_LATENCY_TARGET_MS: String(TARGET_MS),
      DIGEST_MAX_EVENTS: '50',
      RETRY_BACKOFF_CEILING_MS: '1000',
    };
    const workers = await Promise.all([1, 2, 3].map(() => harness.startWorker(env)));
    ports.push(...workers.map((w) => w.port));
    victim = () => workers[0].app;
  }, 60_000);

  afterEach(() => harness.standin.reset());
  const redis = new Redis(TEST_REDIS_URL);
  afterAll(async () => {
    redis.disconnect();
    await harness.close();
  });

  const metric = async (pattern: RegExp) => {
    let total = 0;
    for (const port of ports.slice(victim().child.exitCode === null ? 0 : 1)) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const line of text.split('\n'))
        if (pattern.test(line)) total += Number(line.split(' ')[1]);
    }
    return total;
  };

  it('delivers a burst far over the quota within the target, each document once, failures first, no 429', async () => {
    const started = Date.now();
    const burst = await enqueueBurst(harness.queue, 'A', 600, 20);
    await waitFor(
      () => shownCounts(harness.standin.acceptedFor(DEFAULT_PATH)).size >= burst.itemKeys.length,
      30_000,
      'every event visible in JANDI',
    );
    const elapsed = Date.now() - started;
    const messages = harness.standin.acceptedFor(DEFAULT_PATH);
    // One message per event would need 600 requests: 2 minutes at 6/1s,50/10s.
    expect(elapsed).toBeLessThanOrEqual(TARGET_MS + MARGIN_MS);
    expect(messages.length).toBeLessThan(60);
    const counts = shownCounts(messages);
    expect([...counts.keys()].sort()).toEqual([...burst.itemKeys].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    expect(harness.standin.requests.filter((r) => r.status === 429)).toHaveLength(0);
    for (const window of harness.worstWindows(DEFAULT_PATH))
      expect(window.worst).toBeLessThanOrEqual(window.count);
    const digests = messages.filter(isDigest);
    expect(digests.length).toBeGreaterThan(0);
    for (const digest of digests) expect(failuresAfterOthers(digest)).toBe(0);
    // Failures lead the summary line of every digest that carries any.
    const failureDigests = digests.filter((d) => d.body.includes('국세청 전송 실패'));
    expect(failureDigests.length).toBeGreaterThan(0);
    expect(failureDigests.every((d) => /^\[[^\]]+\] 국세청 전송 실패 \d+건/.test(d.body))).toBe(
      true,
    );

    await waitFor(
      async () => (await harness.queue.getJobCounts('completed')).completed === 600,
      20_000,
      'every job completed',
    );
    expect(await harness.queue.getJobCounts('failed', 'delayed', 'waiting')).toEqual({
      failed: 0,
      delayed: 0,
      waiting: 0,
    });
    expect(await metric(/^jandi_digests_total\{.*outcome="delivered"/)).toBe(digests.length);
    expect(await metric(/^jandi_digest_events_sum/)).toBe(
      digests.reduce((n, d) => n + shownCounts([d]).size, 0),
    );
    expect(await metric(/^relay_digest_pool_events\{/)).toBe(0);
    expect(await metric(/^relay_backlog_age_seconds\{/)).toBe(0);
    // Each event's own log tells how it reached JANDI; most went in a digest.
    const lastLines = await Promise.all(
      (await harness.queue.getJobs(['completed'])).map(
        async (job) => (await harness.queue.getJobLogs(job.id!)).logs.at(-1) ?? '',
      ),
    );
    const inDigest = lastLines.filter((line) =>
      /^digest \S+ of \d+ events → default: HTTP 2\d\d in \d+ ms → delivered in this digest$/.test(
        line,
      ),
    );
    expect(inDigest.length).toBeGreaterThan(300);
  }, 60_000);

  it('retries a digest that got a 5xx without losing or repeating an event', async () => {
    harness.standin.setMode(DEFAULT_PATH, 'server-error');
    const before = (await harness.queue.getJobCounts('completed')).completed;
    const burst = await enqueueBurst(harness.queue, 'B', 150, 25);
    await waitFor(
      async () => (await metric(/^jandi_digests_total\{.*outcome="failed"/)) >= 1,
      20_000,
      'a failed digest',
    );
    harness.standin.setMode(DEFAULT_PATH, 'ok');
    await waitFor(
      async () => (await harness.queue.getJobCounts('completed')).completed === before + 150,
      30_000,
      'every job completed after recovery',
    );
    const counts = shownCounts(harness.standin.acceptedFor(DEFAULT_PATH));
    expect([...counts.keys()].sort()).toEqual([...burst.itemKeys].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(harness.standin.requests.filter((r) => r.status === 429)).toHaveLength(0);
    expect((await harness.queue.getJobCounts('failed')).failed).toBe(0);
  }, 60_000);

  it('puts the events of a SIGKILLed digest sender back in the pool when its lease runs out', async () => {
    // A hanging JANDI holds every replica's digest in flight when the kill lands.
    harness.standin.setMode(DEFAULT_PATH, 'hang');
    const before = (await harness.queue.getJobCounts('completed')).completed;
    const burst = await enqueueBurst(harness.queue, 'C', 200, 10);
    const { leases } = digestPoolKeys(harness.prefix, harness.standin.url(DEFAULT_PATH));
    await waitFor(
      async () => (await redis.zcard(leases)) === 3,
      15_000,
      'a digest in flight in each replica',
    );
    await victim().kill();
    harness.standin.setMode(DEFAULT_PATH, 'ok');
    await waitFor(
      async () => (await harness.queue.getJobCounts('completed')).completed === before + 200,
      40_000,
      'every job completed after the lease ran out',
    );
    const counts = shownCounts(harness.standin.acceptedFor(DEFAULT_PATH));
    expect([...counts.keys()].sort()).toEqual([...burst.itemKeys].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(harness.standin.requests.filter((r) => r.status === 429)).toHaveLength(0);
  }, 60_000);
});
