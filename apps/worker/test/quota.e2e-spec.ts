import { waitFor } from '../../../test/support/process';
import { DEFAULT_PATH, WorkerHarness } from './worker-harness';

const ACCOUNTING_PATH = '/connect-api/webhook/2/accounting-token';

describe('worker quota across replicas (e2e)', () => {
  const harness = new WorkerHarness('quota');

  beforeAll(async () => {
    await harness.start();
    const env = {
      JANDI_ROUTES_FILE: harness.routesFile([
        { match: { eventType: 'NTS', stateCode: 305 }, destination: 'accounting' },
      ]),
      JANDI_WEBHOOK_URL_ACCOUNTING: harness.standin.url(ACCOUNTING_PATH),
      WORKER_CONCURRENCY: '4',
      // On a loaded machine an answer can take over the harness's 2 s: a retry would show twice.
      JANDI_TIMEOUT_MS: '10000',
    };
    await Promise.all([
      harness.startWorker(env),
      harness.startWorker(env),
      harness.startWorker(env),
    ]);
  }, 60_000);

  afterAll(() => harness.close());

  it('delivers a backlog with three workers, no 429 and every sliding window within its limit, while another destination stays prompt', async () => {
    const backlog = await harness.enqueue(70, 'taxinvoice-issue.json', 'backlog');
    await waitFor(
      () => harness.standin.acceptedFor(DEFAULT_PATH).length >= 12,
      20_000,
      'the backlog to start',
    );
    const urgent = await harness.enqueue(3, 'taxinvoice-nts-failed.json', 'nts-failed');

    await waitFor(
      () => harness.standin.acceptedFor(ACCOUNTING_PATH).length === 3,
      20_000,
      'accounting messages',
    );
    // The saturated default destination is still working through its backlog.
    expect(harness.standin.acceptedFor(DEFAULT_PATH).length).toBeLessThan(backlog.length);

    await waitFor(
      () => harness.standin.acceptedFor(DEFAULT_PATH).length >= backlog.length,
      60_000,
      'the backlog',
    );
    expect(harness.deliveredIds(DEFAULT_PATH).sort()).toEqual([...backlog].sort());
    expect(harness.deliveredIds(ACCOUNTING_PATH).sort()).toEqual([...urgent].sort());
    expect(harness.standin.requests.filter((r) => r.status === 429)).toHaveLength(0);
    for (const window of harness.worstWindows(DEFAULT_PATH)) {
      expect(window.worst).toBeLessThanOrEqual(window.count);
    }
    // BullMQ records completion after JANDI's answer reached the worker: wait for it.
    await waitFor(
      async () => (await harness.queue.getJobCounts('completed')).completed === 73,
      20_000,
      'all 73 jobs completed',
    );
    expect(await harness.queue.getJobCounts('failed')).toEqual({ failed: 0 });
  }, 90_000);
});
