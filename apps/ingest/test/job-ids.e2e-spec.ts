import Redis from 'ioredis';
import { bullmqKeySuffixes } from '../../../test/support/bullmq-keys';
import { TEST_REDIS_URL } from '../../../test/support/redis';
import { IngestUnderTest, loadFixtures, startIngest } from './ingest-harness';

const issue = loadFixtures().find((f) => f.name === 'taxinvoice-issue.json')!;
const withMid = (mid: string) => ({ ...issue.headers, 'Pb-Webhook-MID': mid });

const SUFFIXES = bullmqKeySuffixes();

describe('a Pb-Webhook-MID equal to a BullMQ key name', () => {
  let ingest: IngestUnderTest;
  let redis: Redis;
  beforeAll(async () => {
    ingest = await startIngest();
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis.disconnect();
    await ingest.close();
  });

  it('knows the key names BullMQ uses', () => {
    expect(SUFFIXES).toEqual(
      expect.arrayContaining(['wait', 'events', 'marker', 'meta', 'delayed', 'prioritized', 'de']),
    );
  });

  it.each(SUFFIXES)('stores "%s" as its own job and every event after it', async (suffix) => {
    const normal = `after-${suffix.replace(/:/g, '_')}`;
    const hostile = await ingest.post(issue.body, withMid(suffix));
    expect(hostile.status).toBe(200);
    const valid = await ingest.post(issue.body, withMid(normal));
    expect(valid.status).toBe(200);

    const hostileJob = await ingest.jobOf(suffix);
    expect(hostileJob?.data.headers['pb-webhook-mid']).toBe(suffix);
    expect(hostileJob?.id).not.toBe(suffix);
    expect((await ingest.jobOf(normal))?.data.headers['pb-webhook-mid']).toBe(normal);
  });

  it('left the queue counts right and every resend deduplicated', async () => {
    const counts = await ingest.queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'prioritized',
      'completed',
      'failed',
      'waiting-children',
    );
    expect(counts).toEqual({
      waiting: SUFFIXES.length * 2,
      active: 0,
      delayed: 0,
      prioritized: 0,
      completed: 0,
      failed: 0,
      'waiting-children': 0,
    });
    const duplicatesBefore = await ingest.metric(
      'popbill_webhooks_duplicate_total{type="TAXINVOICE.STATE"}',
    );
    for (const suffix of SUFFIXES) {
      expect((await ingest.post(issue.body, withMid(suffix))).status).toBe(200);
    }
    expect(await ingest.metric('popbill_webhooks_duplicate_total{type="TAXINVOICE.STATE"}')).toBe(
      duplicatesBefore + SUFFIXES.length,
    );
    expect((await ingest.queue.getJobCounts('waiting')).waiting).toBe(SUFFIXES.length * 2);
    // The queue's own keys kept their types: nothing was written over them.
    const key = (name: string) => ingest.queue.toKey(name);
    expect(await redis.type(key('wait'))).toBe('list');
    expect(await redis.type(key('meta'))).toBe('hash');
    expect(await redis.type(key('events'))).toBe('stream');
    expect((await fetch(`${ingest.url}/health/ready`)).status).toBe(200);
  });
});

describe('/health/ready when enqueueing fails', () => {
  let ingest: IngestUnderTest;
  let redis: Redis;
  beforeAll(async () => {
    ingest = await startIngest();
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis.disconnect();
    await ingest.close();
  });

  it('answers 503 while Redis answers PING but refuses the writes, and 200 once they succeed', async () => {
    expect((await fetch(`${ingest.url}/health/ready`)).status).toBe(200);
    // A key of the wrong type where BullMQ keeps its waiting list: every add fails (WRONGTYPE).
    await redis.set(ingest.queue.toKey('wait'), 'not a list');

    const refused = await ingest.post(issue.body, withMid('while-poisoned'));
    expect(refused.status).toBe(503);
    const ready = await fetch(`${ingest.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/could not be stored/);

    await redis.del(ingest.queue.toKey('wait'));
    expect((await ingest.post(issue.body, withMid('while-poisoned'))).status).toBe(200);
    expect((await fetch(`${ingest.url}/health/ready`)).status).toBe(200);
  });
});

describe('job names', () => {
  let ingest: IngestUnderTest;
  beforeAll(async () => {
    ingest = await startIngest();
  });
  afterAll(() => ingest.close());

  it('say what the event is, with what the sender chose cleaned and clipped', async () => {
    expect((await ingest.post(issue.body, withMid('named-1'))).status).toBe(200);
    expect((await ingest.jobOf('named-1'))?.name).toBe(
      `TAXINVOICE.STATE/Issue ${String(issue.body.itemKey)}`,
    );
    // A type ingest does not model is stored whatever its fields hold.
    const unmodelled = loadFixtures().find((f) => f.name === 'unknown-type.json')!;
    const hostile = { ...unmodelled.body, itemKey: `\u202e${'k'.repeat(5000)}\n` };
    const headers = { ...unmodelled.headers, 'Pb-Webhook-MID': 'named-2' };
    expect((await ingest.post(hostile, headers)).status).toBe(200);
    const name = (await ingest.jobOf('named-2'))?.name ?? '';
    expect(name.length).toBeLessThanOrEqual(120);
    expect(name).toMatch(/^HT\.TAXINVOICEXML\/HTTaxinvoice k+…$/);
  });
});
