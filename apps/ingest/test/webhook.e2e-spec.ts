import { request as httpRequest } from 'node:http';
import { DEAD_LETTER_STATE, PopbillEventJob, RELAY_QUEUE } from '@app/contracts';
import { UnrecoverableError, Worker } from 'bullmq';
import Redis from 'ioredis';
import { TEST_REDIS_URL } from '../../../test/support/redis';
import { waitFor } from '../../../test/support/process';
import { eventIdFor, MANUAL_EVENT_TYPE, manualEventIdFor } from '../src/webhooks/event-id';
import { errorBody, IngestUnderTest, loadFixtures, startIngest } from './ingest-harness';

const fixtures = loadFixtures();
const issue = fixtures.find((f) => f.name === 'taxinvoice-issue.json')!;

const rejected = (reason: string) => `popbill_webhooks_rejected_total{reason="${reason}"}`;

describe('POST /webhooks/popbill', () => {
  let ingest: IngestUnderTest;

  beforeAll(async () => {
    ingest = await startIngest();
  });
  afterAll(async () => {
    await ingest.close();
  });

  const jobCount = async () => {
    const counts = await ingest.queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'completed',
      'failed',
      'prioritized',
    );
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };

  it.each(fixtures.map((f) => [f.name, f] as const))(
    'acks %s with 200 OK and stores the raw event',
    async (_name, fixture) => {
      const response = await ingest.post(fixture.body, fixture.headers);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).toBe('OK');

      const mid = fixture.headers['Pb-Webhook-MID'];
      const type = fixture.headers['Pb-Webhook-Type'];
      const manual = fixture.body.eventType === MANUAL_EVENT_TYPE;
      const eventId = (manual ? manualEventIdFor : eventIdFor)(
        type,
        mid,
        fixture.body as never,
      ).eventId;
      const job = await ingest.queue.getJob(eventId);
      expect(job).toBeDefined();
      const data: PopbillEventJob = job!.data;
      expect(data).toMatchObject({
        v: 1,
        eventId,
        eventIdSource: 'mid',
        webhookType: fixture.headers['Pb-Webhook-Type'],
        corpNum: fixture.headers['Pb-Webhook-Corpnum'],
      });
      expect(data.body).toEqual(fixture.body);
      expect(data.headers['pb-webhook-mid']).toBe(mid);
      expect(data.headers['pb-webhook-type']).toBe(fixture.headers['Pb-Webhook-Type']);
      expect(new Date(data.receivedAt).toISOString()).toBe(data.receivedAt);
    },
  );

  it('marks a type it does not model and still relays it', async () => {
    const job = await ingest.jobOf('016120000002-b1c2d3e4f5061728394a5b6');
    expect(job!.data.flags).toEqual(['unmodelled-webhook-type']);
  });

  it('stores one job for the same MID sent twice and counts the duplicate', async () => {
    const headers = { ...issue.headers, 'Pb-Webhook-MID': 'dup-twice-1' };
    const before = await jobCount();
    const duplicatesBefore = await ingest.metric(
      'popbill_webhooks_duplicate_total{type="TAXINVOICE.STATE"}',
    );
    const [first, second] = await Promise.all([
      ingest.post(issue.body, headers),
      ingest.post(issue.body, headers),
    ]);
    const third = await ingest.post(issue.body, headers);
    for (const response of [first, second, third]) {
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('OK');
    }
    expect(await jobCount()).toBe(before + 1);
    expect(
      await ingest.metric('popbill_webhooks_duplicate_total{type="TAXINVOICE.STATE"}'),
    ).toBeGreaterThanOrEqual(duplicatesBefore + 1);
  });

  it('dedupes on a hash of type and body when there is no MID', async () => {
    const headers = { 'Pb-Webhook-Type': 'TAXINVOICE.STATE' };
    const body = { ...issue.body, itemKey: '026111009399999999' };
    const before = await jobCount();
    await ingest.post(body, headers);
    // Same fields in another order are the same event.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    expect((await ingest.post(reordered, headers)).status).toBe(200);
    expect(await jobCount()).toBe(before + 1);
    await ingest.post({ ...body, eventType: 'OPEN' }, headers);
    expect(await jobCount()).toBe(before + 2);
  });

  it('keeps refusing a resent MID after the completed job has been removed', async () => {
    const headers = { ...issue.headers, 'Pb-Webhook-MID': 'dedupe-outlives-job' };
    expect((await ingest.post(issue.body, headers)).status).toBe(200);
    const worker = new Worker(RELAY_QUEUE, async () => 'delivered', {
      connection: { url: TEST_REDIS_URL },
      prefix: ingest.prefix,
    });
    await waitFor(
      async () => (await ingest.queue.getJobState('m.dedupe-outlives-job')) === 'completed',
      5000,
      'job completed',
    );
    await worker.close();
    // What removeOnComplete does when the job ages out: the job is gone, the dedupe key is not.
    const redis = new Redis(TEST_REDIS_URL);
    await redis.del(ingest.queue.toKey('m.dedupe-outlives-job'));
    await redis.zrem(ingest.queue.toKey('completed'), 'm.dedupe-outlives-job');
    redis.disconnect();
    expect(await ingest.jobOf('dedupe-outlives-job')).toBeUndefined();

    const resent = await ingest.post(issue.body, headers);
    expect(resent.status).toBe(200);
    expect(await ingest.jobOf('dedupe-outlives-job')).toBeUndefined();
  });

  it('puts a dead-lettered job back to work when Popbill resends it', async () => {
    const headers = { ...issue.headers, 'Pb-Webhook-MID': 'revive-me' };
    expect((await ingest.post(issue.body, headers)).status).toBe(200);
    const worker = new Worker(
      RELAY_QUEUE,
      async () => {
        throw new UnrecoverableError('JANDI answered 40000');
      },
      { connection: { url: TEST_REDIS_URL }, prefix: ingest.prefix },
    );
    await waitFor(
      async () => (await ingest.queue.getJobState('m.revive-me')) === 'failed',
      5000,
      'job failed',
    );
    await worker.close();
    expect(await ingest.queue.getJobState('m.revive-me')).toBe(DEAD_LETTER_STATE);

    const resent = await ingest.post(issue.body, headers);
    expect(resent.status).toBe(200);
    expect(await resent.text()).toBe('OK');
    expect(await ingest.queue.getJobState('m.revive-me')).toBe('waiting');
    const revived = await ingest.jobOf('revive-me');
    expect(revived!.attemptsMade).toBe(0);
    expect(await ingest.metric('popbill_webhooks_revived_total{type="TAXINVOICE.STATE"}')).toBe(1);
  });

  it('accepts and flags an unknown eventType on a known type', async () => {
    const headers = { ...issue.headers, 'Pb-Webhook-MID': 'unknown-event-type-1' };
    const response = await ingest.post({ ...issue.body, eventType: 'SomethingNew' }, headers);
    expect(response.status).toBe(200);
    const job = await ingest.jobOf('unknown-event-type-1');
    expect(job!.data.flags).toEqual(['unknown-event-type']);
    expect(await ingest.metric('popbill_webhooks_flagged_total{flag="unknown-event-type"}')).toBe(
      1,
    );
  });

  describe('rejects bad input with a reason, stores nothing and counts it', () => {
    const cases: Array<[string, () => Promise<Response>, number, string, RegExp]> = [
      [
        'a text/plain body',
        () => ingest.post('OK', { ...issue.headers, 'content-type': 'text/plain' }),
        415,
        'unsupported_media_type',
        /Unsupported Media Type|application\/json/i,
      ],
      [
        'a form body',
        () =>
          ingest.post('a=1', {
            ...issue.headers,
            'content-type': 'application/x-www-form-urlencoded',
          }),
        415,
        'unsupported_media_type',
        /Unsupported Media Type|application\/json/i,
      ],
      [
        'no body and no content type',
        () =>
          fetch(`${ingest.url}/webhooks/popbill`, {
            method: 'POST',
            headers: { 'pb-webhook-type': 'TAXINVOICE.STATE' },
          }),
        415,
        'unsupported_media_type',
        /application\/json/,
      ],
      [
        'JSON in a charset other than UTF-8',
        () =>
          ingest.post(JSON.stringify(issue.body), {
            ...issue.headers,
            'content-type': 'application/json; charset=euc-kr',
          }),
        415,
        'unsupported_media_type',
        /charset euc-kr/,
      ],
      [
        'deeply nested JSON without a MID',
        () =>
          ingest.post(`{"x":${'['.repeat(20_000)}1${']'.repeat(20_000)}}`, {
            'pb-webhook-type': 'HT.TAXINVOICEXML',
          }),
        400,
        'too_deep',
        /nested deeper than 32/,
      ],
      [
        'broken JSON',
        () => ingest.post('{"eventType": "Issue",', issue.headers),
        400,
        'invalid_json',
        /not valid JSON/,
      ],
      [
        'an empty JSON body',
        () => ingest.post('', issue.headers),
        400,
        'invalid_json',
        /empty|JSON/i,
      ],
      [
        'a JSON array',
        () => ingest.post('[1,2]', issue.headers),
        400,
        'not_an_object',
        /JSON object/,
      ],
      [
        'a __proto__ key',
        () => ingest.post('{"__proto__": {"polluted": true}}', issue.headers),
        400,
        'forbidden_key',
        /forbidden key/,
      ],
      [
        'a constructor.prototype key',
        () => ingest.post('{"constructor": {"prototype": {"polluted": true}}}', issue.headers),
        400,
        'forbidden_key',
        /forbidden key/,
      ],
      [
        'a body over 256 KB',
        () => ingest.post({ ...issue.body, pad: 'x'.repeat(300 * 1024) }, issue.headers),
        413,
        'body_too_large',
        /too large|limit/i,
      ],
    ];

    it.each(cases)('%s', async (_label, send, status, reason, message) => {
      const jobsBefore = await jobCount();
      const countBefore = await ingest.metric(rejected(reason));
      const response = await send();
      expect(response.status).toBe(status);
      const payload = await errorBody(response);
      expect(payload.message).toMatch(message);
      expect(await jobCount()).toBe(jobsBefore);
      expect(await ingest.metric(rejected(reason))).toBe(countBefore + 1);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('accepts and flags what is an event, however odd its fields', () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, string>, string[]]> = [
      ['no Pb-Webhook-Type', issue.body, { 'Pb-Webhook-MID': 'no-type' }, ['missing-webhook-type']],
      [
        'a malformed Pb-Webhook-Type',
        issue.body,
        { 'Pb-Webhook-MID': 'bad-type', 'Pb-Webhook-Type': 'TAX INVOICE<script>' },
        ['invalid-webhook-type'],
      ],
      [
        'an invalid corpNum',
        { ...issue.body, corpNum: '12-34' },
        { ...issue.headers, 'Pb-Webhook-MID': 'bad-corp' },
        ['corpnum-mismatch', 'schema:corpNum:format'],
      ],
      [
        'a stateCode of the wrong type',
        { ...issue.body, stateCode: true },
        { ...issue.headers, 'Pb-Webhook-MID': 'bad-state' },
        ['schema:stateCode:type'],
      ],
      [
        'an Issue without ntsConfirmNum',
        { ...issue.body, ntsConfirmNum: undefined },
        { ...issue.headers, 'Pb-Webhook-MID': 'no-confirm' },
        ['schema:ntsConfirmNum:missing'],
      ],
      [
        'a Pb-Webhook-MID longer than 200 characters',
        issue.body,
        { ...issue.headers, 'Pb-Webhook-MID': 'm'.repeat(300) },
        [],
      ],
      [
        'every bad field of a TAXINVOICE.STATE event',
        { ...issue.body, eventDT: '2026-11-10', stateDT: 42, itemKey: '' },
        { ...issue.headers, 'Pb-Webhook-MID': 'bad-fields' },
        ['schema:eventDT:format', 'schema:itemKey:empty', 'schema:stateDT:type'],
      ],
    ];

    it.each(cases)('%s', async (_label, body, headers, flags) => {
      const jobsBefore = await jobCount();
      const response = await ingest.post(body, headers);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('OK');
      expect(await jobCount()).toBe(jobsBefore + 1);
      const mid = headers['Pb-Webhook-MID'];
      const [job] = (await ingest.queue.getJobs(['waiting'])).filter(
        (candidate) => candidate.data.headers['pb-webhook-mid'] === mid,
      );
      expect([...job.data.flags].sort()).toEqual(flags);
      for (const flag of flags) {
        expect(
          await ingest.metric(`popbill_webhooks_flagged_total{flag="${flag}"}`),
        ).toBeGreaterThanOrEqual(1);
      }
    });
  });

  it('serves health, metrics and the OpenAPI description', async () => {
    expect((await fetch(`${ingest.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${ingest.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', redis: 'up' });
    const metrics = await (await fetch(`${ingest.adminUrl}/metrics`)).text();
    for (const name of [
      'popbill_webhooks_received_total',
      'popbill_webhooks_accepted_total',
      'popbill_webhooks_duplicate_total',
      'popbill_webhooks_rejected_total',
      'popbill_enqueue_duration_seconds_bucket',
      'process_resident_memory_bytes',
    ]) {
      expect(metrics).toContain(name);
    }
    const docs = await fetch(`${ingest.adminUrl}/docs-json`);
    expect(docs.status).toBe(200);
    expect(
      ((await docs.json()) as { paths: Record<string, { post?: unknown }> }).paths[
        '/webhooks/popbill'
      ].post,
    ).toBeDefined();
  });

  it('echoes no credentials and answers a slow client without holding the event loop', async () => {
    // A request that stops after its headers: the server must stay responsive meanwhile.
    const slow = httpRequest(`${ingest.url}/webhooks/popbill`, {
      method: 'POST',
      headers: { ...issue.headers, 'content-length': '5000' },
    });
    slow.on('error', () => undefined);
    slow.write('{"eventDT":');
    expect((await fetch(`${ingest.url}/health/live`)).status).toBe(200);
    slow.destroy();
  });
});

describe('ACK_FORMAT=json', () => {
  it('acks with {"result":"OK"}', async () => {
    const ingest = await startIngest({ ACK_FORMAT: 'json' });
    try {
      const response = await ingest.post(issue.body, issue.headers);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.text()).toBe('{"result":"OK"}');
    } finally {
      await ingest.close();
    }
  });
});
