import { RELAY_BACKOFF_TYPE } from '@app/contracts';
import { waitFor } from '../../../test/support/process';
import { DEFAULT_PATH, WorkerHarness } from './worker-harness';

const OPS_PATH = '/connect-api/webhook/9/ops-token';
const ACCOUNTING_PATH = '/connect-api/webhook/2/accounting-token';
const FAST_RETRY = { backoff: { type: RELAY_BACKOFF_TYPE, delay: 200 } };

describe('notices to the operators (JANDI_WEBHOOK_URL_OPS, e2e)', () => {
  const harness = new WorkerHarness('ops-notices');
  let port = 0;

  beforeAll(async () => {
    await harness.start();
    ({ port } = await harness.startWorker({
      JANDI_WEBHOOK_URL_OPS: harness.standin.url(OPS_PATH),
      JANDI_WEBHOOK_URL_ACCOUNTING: harness.standin.url(ACCOUNTING_PATH),
      JANDI_ROUTES_FILE: harness.routesFile([
        { match: { eventType: 'NTS', stateCode: 305 }, destination: 'accounting' },
      ]),
      OPS_ALERT_AFTER_MS: '1500',
      OPS_NOTICE_INTERVAL_MS: '600000',
      RETRY_BACKOFF_CEILING_MS: '500',
    }));
  }, 30_000);

  afterAll(() => harness.close());

  const notices = async (kind: string, outcome: string) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text
      .split('\n')
      .find((row) =>
        row.startsWith(`relay_ops_notices_total{kind="${kind}",outcome="${outcome}"}`),
      );
    return Number(line?.split(' ')[1] ?? NaN);
  };

  it('posts one Korean notice for dead letters of a destination per interval', async () => {
    harness.standin.setMode(DEFAULT_PATH, 'invalid-token');
    const [first] = await harness.enqueue(1, 'taxinvoice-issue.json', 'dead-a');
    await waitFor(async () => (await notices('dead_letter', 'sent')) === 1, 15_000, 'a notice');
    const [second] = await harness.enqueue(1, 'taxinvoice-open.json', 'dead-b');
    await waitFor(
      async () => (await notices('dead_letter', 'suppressed')) === 1,
      15_000,
      'the second dead letter, held back',
    );
    expect([
      await harness.queue.getJobState(first),
      await harness.queue.getJobState(second),
    ]).toEqual(['failed', 'failed']);
    const sent = harness.standin.acceptedFor(OPS_PATH);
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toContain('데드레터 발생: default');
    const info = Object.fromEntries(
      (sent[0].connectInfo ?? []).map((i) => [i.title, i.description]),
    );
    expect(info['무엇']).toContain('40000');
    expect(info['몇 건']).toMatch(/^현재 데드레터 [12]건$/);
    expect(info['재처리 방법']).toContain('npm run replay');
  });

  it('posts a notice once a destination has failed for OPS_ALERT_AFTER_MS', async () => {
    harness.standin.setMode(ACCOUNTING_PATH, 'server-error');
    await harness.enqueue(1, 'taxinvoice-nts-failed.json', 'outage', FAST_RETRY);
    await waitFor(async () => (await notices('failing', 'sent')) === 1, 20_000, 'a failing notice');
    const failing = harness.standin
      .acceptedFor(OPS_PATH)
      .filter((m) => m.body.includes('전송 실패 지속: accounting'));
    expect(failing).toHaveLength(1);
    expect(harness.standin.count(ACCOUNTING_PATH, 503)).toBeGreaterThanOrEqual(2);
    harness.standin.setMode(ACCOUNTING_PATH, 'ok');
  });
});
