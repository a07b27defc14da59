import { RedisServer } from '../../../test/support/redis';
import { errorBody, IngestUnderTest, loadFixtures, startIngest } from './ingest-harness';

const issue = loadFixtures().find((f) => f.name === 'taxinvoice-issue.json')!;
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
const withMid = (mid: string) => ({ ...issue.headers, 'Pb-Webhook-MID': mid });

describe('authentication and source allowlist', () => {
  let ingest: IngestUnderTest;
  beforeAll(async () => {
    ingest = await startIngest({
      POPBILL_BASIC_AUTH: 'popbill:s3cret:with-colon',
      POPBILL_API_KEY: 'KEY-123',
    });
  });
  afterAll(() => ingest.close());

  it.each([
    ['no credentials', {}],
    ['a wrong password', { authorization: basic('popbill:wrong') }],
    ['a wrong API key', { 'x-api-key': 'KEY-124' }],
    ['a malformed Authorization header', { authorization: 'Bearer KEY-123' }],
  ])('answers 401 to %s and stores nothing', async (_label, credentials) => {
    const before = await ingest.metric('popbill_webhooks_rejected_total{reason="unauthorized"}');
    const response = await ingest.post(issue.body, { ...withMid('auth-denied'), ...credentials });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await errorBody(response)).message).toMatch(/credentials/);
    expect(await ingest.jobOf('auth-denied')).toBeUndefined();
    expect(await ingest.metric('popbill_webhooks_rejected_total{reason="unauthorized"}')).toBe(
      before + 1,
    );
  });

  it('accepts the right Basic credentials', async () => {
    const response = await ingest.post(issue.body, {
      ...withMid('auth-basic'),
      authorization: basic('popbill:s3cret:with-colon'),
    });
    expect(response.status).toBe(200);
    expect(await ingest.jobOf('auth-basic')).toBeDefined();
  });

  it('accepts the right API key alone', async () => {
    const response = await ingest.post(issue.body, {
      ...withMid('auth-key'),
      'x-api-key': 'KEY-123',
    });
    expect(response.status).toBe(200);
  });

  it('keeps credentials out of the stored job', async () => {
    const job = await ingest.jobOf('auth-basic');
    expect(JSON.stringify(job!.data)).not.toMatch(/s3cret|KEY-123|authorization|x-api-key/i);
  });
});

describe('POPBILL_ALLOWED_IPS', () => {
  it('answers 403 to a source outside the list', async () => {
    const ingest = await startIngest({ POPBILL_ALLOWED_IPS: '54.180.62.221,13.124.72.158' });
    try {
      const response = await ingest.post(issue.body, withMid('ip-denied'));
      expect(response.status).toBe(403);
      expect((await errorBody(response)).message).toMatch(/not allowed/);
      expect(await ingest.jobOf('ip-denied')).toBeUndefined();
      expect(
        await ingest.metric('popbill_webhooks_rejected_total{reason="forbidden_source"}'),
      ).toBe(1);
    } finally {
      await ingest.close();
    }
  });

  it('allows a listed CIDR, and with TRUST_PROXY uses X-Forwarded-For', async () => {
    const ingest = await startIngest({
      POPBILL_ALLOWED_IPS: '127.0.0.0/8',
      TRUST_PROXY: '127.0.0.1',
    });
    try {
      expect((await ingest.post(issue.body, withMid('ip-ok'))).status).toBe(200);
      const forwarded = await ingest.post(issue.body, {
        ...withMid('ip-forwarded'),
        'x-forwarded-for': '203.0.113.9',
      });
      expect(forwarded.status).toBe(403);
      expect((await errorBody(forwarded)).message).toContain('203.0.113.9');
    } finally {
      await ingest.close();
    }
  });

  it('with TRUST_PROXY as a hop count, trusts only that many proxies', async () => {
    const ingest = await startIngest({ POPBILL_ALLOWED_IPS: '203.0.113.0/24', TRUST_PROXY: '1' });
    try {
      const viaOneProxy = await ingest.post(issue.body, {
        ...withMid('hop-ok'),
        'x-forwarded-for': '203.0.113.9',
      });
      expect(viaOneProxy.status).toBe(200);
      const spoofed = await ingest.post(issue.body, {
        ...withMid('hop-spoofed'),
        'x-forwarded-for': '203.0.113.9, 198.51.100.7',
      });
      expect(spoofed.status).toBe(403);
      expect((await errorBody(spoofed)).message).toContain('198.51.100.7');
    } finally {
      await ingest.close();
    }
  });
});

describe('when Redis goes away', () => {
  let redis: RedisServer;
  let ingest: IngestUnderTest;
  beforeAll(async () => {
    redis = await RedisServer.start();
    ingest = await startIngest({ REDIS_URL: redis.url, ENQUEUE_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    await ingest.close();
    await redis.stop();
  });

  it('answers 503 quickly while Redis is down and recovers by itself when it returns', async () => {
    expect((await ingest.post(issue.body, withMid('before-outage'))).status).toBe(200);

    await redis.kill();
    const started = Date.now();
    const during = await ingest.post(issue.body, withMid('during-outage'));
    expect(during.status).toBe(503);
    expect((await errorBody(during)).message).toMatch(/could not be stored/);
    expect(Date.now() - started).toBeLessThan(1500);
    expect((await fetch(`${ingest.url}/health/ready`)).status).toBe(503);
    expect(await ingest.metric('popbill_webhooks_unavailable_total')).toBeGreaterThanOrEqual(1);

    await redis.restart();
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await ingest.post(issue.body, withMid('during-outage'))).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    expect((await fetch(`${ingest.url}/health/ready`)).status).toBe(200);
    // The AOF kept the event acknowledged before the outage.
    expect(await ingest.jobOf('before-outage')).toBeDefined();
    expect(await ingest.jobOf('during-outage')).toBeDefined();
  });
});
