import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RELAY_QUEUE, type PopbillEventJob } from '@app/contracts';
import { JandiStandin, type AcceptedMessage } from '@app/jandi-standin';
import { Queue, type Job } from 'bullmq';
import { freePort, startApp, waitFor, type RunningApp } from './support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from './support/redis';

interface FlaggedFixture {
  name: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  expect: {
    flags: string[];
    corpNum: string | null;
    eventType: string | null;
    webhookType: string;
    shows: string[];
  };
}

const FIXTURE_DIR = join(__dirname, 'fixtures', 'popbill', 'flagged');
const fixtures: FlaggedFixture[] = readdirSync(FIXTURE_DIR)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({ name: file, ...JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8')) }));

const JANDI_PATH = '/connect-api/webhook/1/flagged';
const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;

const messageText = (message: AcceptedMessage) =>
  [message.body, ...(message.connectInfo ?? []).flatMap((e) => [e.title, e.description])].join(
    '\n',
  );

/**
 * Events that depart from the spec (empty, missing, odd fields, unknown types, header-only
 * values) are answered 200, stored once with their flags, and delivered by the real worker.
 */
describe('events Popbill must never lose: acknowledged, stored once, flagged, delivered (e2e)', () => {
  const prefix = uniquePrefix('flagged');
  const standin = new JandiStandin();
  const apps: RunningApp[] = [];
  let queue: Queue<PopbillEventJob>;
  let ingestUrl: string;
  let ingestAdminUrl: string;
  const redis = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' };

  beforeAll(async () => {
    await standin.listen();
    const port = await freePort();
    const adminPort = await freePort();
    ingestUrl = `http://127.0.0.1:${port}`;
    ingestAdminUrl = `http://127.0.0.1:${adminPort}`;
    apps.push(
      await startApp(
        'ingest',
        { ...redis, HOST: '127.0.0.1', PORT: String(port), ADMIN_PORT: String(adminPort) },
        `${ingestUrl}/health/ready`,
      ),
    );
    queue = new Queue(RELAY_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix });
  }, 30_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await queue.close();
    await standin.close();
    await deletePrefix(TEST_REDIS_URL, prefix);
  });

  const post = (body: unknown, headers: Record<string, string>) =>
    fetch(`${ingestUrl}/webhooks/popbill`, {
      method: 'POST',
      headers: {
        ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });

  const jobsFor = async (mid: string): Promise<Job<PopbillEventJob>[]> =>
    (await queue.getJobs([...STATES])).filter((job) => job.data.headers['pb-webhook-mid'] === mid);

  const metric = async (series: string) => {
    const text = await (await fetch(`${ingestAdminUrl}/metrics`)).text();
    const line = text.split('\n').find((row) => row.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };

  /** Messages showing `text`: a MID (rendered as the event id) or a document key. */
  const messagesFor = (text: string) =>
    standin.acceptedFor(JANDI_PATH).filter((message) => messageText(message).includes(text));

  it.each(fixtures.map((f) => [f.name, f] as const))(
    'acknowledges %s with 200 OK and stores exactly one job with its flags',
    async (_name, fixture) => {
      const response = await post(fixture.body, fixture.headers);
      expect({ status: response.status, text: await response.text() }).toEqual({
        status: 200,
        text: 'OK',
      });
      const jobs = await jobsFor(fixture.headers['Pb-Webhook-MID']);
      expect(jobs).toHaveLength(1);
      const data = jobs[0].data;
      expect({
        flags: [...data.flags].sort(),
        corpNum: data.corpNum,
        eventType: data.eventType,
        webhookType: data.webhookType,
      }).toEqual({
        flags: fixture.expect.flags,
        corpNum: fixture.expect.corpNum,
        eventType: fixture.expect.eventType,
        webhookType: fixture.expect.webhookType,
      });
      expect(data.body).toEqual(fixture.body);
    },
  );

  it('counts every flag in popbill_webhooks_flagged_total', async () => {
    const expected = new Map<string, number>();
    for (const flag of fixtures.flatMap((f) => f.expect.flags)) {
      expected.set(flag, (expected.get(flag) ?? 0) + 1);
    }
    for (const [flag, count] of expected) {
      expect([flag, await metric(`popbill_webhooks_flagged_total{flag="${flag}"}`)]).toEqual([
        flag,
        count,
      ]);
    }
    expect(await metric('popbill_webhooks_accepted_total{type="other"}')).toBeGreaterThan(0);
  });

  it('the worker delivers every one of them to JANDI, showing its field values', async () => {
    const port = await freePort();
    apps.push(
      await startApp(
        'worker',
        {
          ...redis,
          JANDI_WEBHOOK_URL: standin.url(JANDI_PATH),
          METRICS_PORT: String(port),
          DIGEST_ENABLED: 'false',
        },
        `http://127.0.0.1:${port}/health/ready`,
      ),
    );
    await waitFor(
      () => fixtures.every((f) => messagesFor(f.headers['Pb-Webhook-MID']).length === 1),
      30_000,
      'one JANDI message per fixture',
      100,
    );
    for (const fixture of fixtures) {
      const text = messageText(messagesFor(fixture.headers['Pb-Webhook-MID'])[0]);
      for (const value of fixture.expect.shows)
        expect([fixture.name, text]).toEqual([fixture.name, expect.stringContaining(value)]);
    }
  });

  it('delivers a manual re-execution of a delivered MID again, but not an automatic resend', async () => {
    const mid = '016120000002-manual0000000000000001';
    // A re-execution's event id is not its MID, so its message is found by its document key.
    const itemKey = '026111009300000201';
    const original = {
      headers: {
        'Pb-Webhook-Type': 'TAXINVOICE.STATE',
        'Pb-Webhook-MID': mid,
        'Pb-Webhook-Corpnum': '1012345678',
        'Pb-Webhook-EventType': 'Issue',
      },
      body: {
        eventDT: '20261110093012',
        eventType: 'Issue',
        corpNum: '1012345678',
        itemKey,
        ntsConfirmNum: '20261110410000201a2b3c4d',
        stateCode: 300,
        stateDT: '20261110093012',
      },
    };
    expect((await post(original.body, original.headers)).status).toBe(200);
    await waitFor(() => messagesFor(itemKey).length === 1, 15_000, 'the first delivery');
    const [first] = await jobsFor(mid);
    await waitFor(async () => (await first.getState()) === 'completed', 15_000, 'completed');

    // Popbill's automatic resend of the delivered event: acknowledged, not stored again.
    const duplicates = await metric('popbill_webhooks_duplicate_total{type="TAXINVOICE.STATE"}');
    expect((await post(original.body, original.headers)).status).toBe(200);
    expect(await jobsFor(mid)).toHaveLength(1);
    expect(await metric('popbill_webhooks_duplicate_total{type="TAXINVOICE.STATE"}')).toBe(
      duplicates + 1,
    );

    // The operator re-executes it from the Popbill site: the same MID, eventType MANUAL.
    const manual = {
      headers: { ...original.headers, 'Pb-Webhook-EventType': 'MANUAL' },
      body: { ...original.body, eventType: 'MANUAL', eventDT: '20261113080000' },
    };
    expect((await post(manual.body, manual.headers)).status).toBe(200);
    await waitFor(() => messagesFor(itemKey).length === 2, 15_000, 'the manual re-execution');
    const jobs = await jobsFor(mid);
    expect(jobs).toHaveLength(2);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(2);

    // Popbill resending that same re-execution is again a duplicate.
    expect((await post(manual.body, manual.headers)).status).toBe(200);
    expect(await jobsFor(mid)).toHaveLength(2);

    // A later event is delivered after them; the resends did not add a third message.
    const later = { ...original.headers, 'Pb-Webhook-MID': '016120000002-manual-later' };
    expect((await post({ ...original.body, itemKey: 'later' }, later)).status).toBe(200);
    await waitFor(
      () => messagesFor('016120000002-manual-later').length === 1,
      15_000,
      'the later event',
    );
    expect(messagesFor(itemKey)).toHaveLength(2);
  });
});
