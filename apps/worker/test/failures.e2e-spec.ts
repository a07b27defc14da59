import { RELAY_BACKOFF_TYPE } from '@app/contracts';
import { waitFor } from '../../../test/support/process';
import { DEFAULT_PATH, WorkerHarness } from './worker-harness';

const FAST_RETRY = { backoff: { type: RELAY_BACKOFF_TYPE, delay: 200 } };

describe('worker responses, retries and dead letters (e2e)', () => {
  const harness = new WorkerHarness('failures');
  let metricsPort = 0;

  beforeAll(async () => {
    await harness.start();
    ({ port: metricsPort } = await harness.startWorker({
      ADMIN_TOKEN: 'e2e-admin',
      RETRY_BACKOFF_CEILING_MS: '1000',
    }));
  }, 30_000);

  afterEach(() => harness.standin.reset());
  afterAll(() => harness.close());

  const state = async (id: string) => (await harness.queue.getJob(id))?.getState();

  it('retries 5xx with backoff and delivers once JANDI recovers', async () => {
    harness.standin.setMode(DEFAULT_PATH, 'server-error');
    const [id] = await harness.enqueue(1, 'taxinvoice-nts-accepted.json', 'outage', FAST_RETRY);
    await waitFor(() => harness.standin.count(DEFAULT_PATH, 503) >= 2, 15_000, 'two failed sends');
    harness.standin.setMode(DEFAULT_PATH, 'ok');
    await waitFor(async () => (await state(id)) === 'completed', 15_000, 'delivery after recovery');
    expect(harness.deliveredIds(DEFAULT_PATH)).toEqual([id]);
    expect((await harness.queue.getJob(id))?.attemptsMade).toBeGreaterThanOrEqual(3);
  });

  it('on 429 from another poster cools down and delivers without burning an attempt', async () => {
    harness.standin.setWindows([{ count: 2, windowMs: 1000 }]);
    const foreign = {
      method: 'POST',
      headers: {
        Accept: 'application/vnd.tosslab.jandi-v2+json',
        'Content-Type': 'application/json',
      },
      body: '{"body":"someone else"}',
    };
    await fetch(harness.standin.url(DEFAULT_PATH), foreign);
    await fetch(harness.standin.url(DEFAULT_PATH), foreign);
    const [id] = await harness.enqueue(1, 'taxinvoice-open.json', 'crowded');
    await waitFor(
      async () => (await state(id)) === 'completed',
      15_000,
      'delivery after the cooldown',
    );
    harness.standin.setWindows([
      { count: 6, windowMs: 1000 },
      { count: 50, windowMs: 10_000 },
    ]);
    expect(harness.standin.count(DEFAULT_PATH, 429)).toBeGreaterThanOrEqual(1);
    // attemptsMade counts the successful attempt itself; nothing failed before it.
    const done = await harness.queue.getJob(id);
    expect({ attempts: done?.attemptsMade, reason: done?.failedReason }).toEqual({
      attempts: 1,
      reason: undefined,
    });
  });

  it('dead-letters 40000, then replays it through the admin endpoint once fixed', async () => {
    harness.standin.setMode(DEFAULT_PATH, 'invalid-token');
    const [id] = await harness.enqueue(1, 'taxinvoice-nts-failed.json', 'bad-token');
    await waitFor(async () => (await state(id)) === 'failed', 15_000, 'the dead letter');
    const dead = await harness.queue.getJob(id);
    expect(dead?.failedReason).toContain('40000');
    expect(dead?.attemptsMade).toBe(1);

    const admin = `http://127.0.0.1:${metricsPort}/admin/dead-letters`;
    expect((await fetch(`${admin}/replay`, { method: 'POST' })).status).toBe(401);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/relay_dead_letters_total\{reason="JANDI rejected"\} 1/);
    expect(metrics).toMatch(/relay_jobs\{state="failed"\} 1/);

    const auth = { headers: { Authorization: 'Bearer e2e-admin' } };
    for (const query of ['', '?all=true', '?reason=40000', '?all=false&reason=40000']) {
      const listed = await fetch(`${admin}${query}`, auth);
      expect({ query, status: listed.status }).toEqual({ query, status: 200 });
      expect(((await listed.json()) as { id: string }[]).map((l) => l.id)).toEqual([id]);
    }
    expect((await fetch(`${admin}?all=maybe`, auth)).status).toBe(400);

    harness.standin.setMode(DEFAULT_PATH, 'ok');
    const replay = await fetch(`${admin}/replay`, {
      method: 'POST',
      headers: { Authorization: 'Bearer e2e-admin', 'Content-Type': 'application/json' },
      body: JSON.stringify({ reason: '40000' }),
    });
    expect(await replay.json()).toEqual({ replayed: [id] });
    await waitFor(async () => (await state(id)) === 'completed', 15_000, 'the replayed delivery');
    expect(harness.deliveredIds(DEFAULT_PATH)).toEqual([id]);
  });

  it('dead-letters a 200 whose body carries code 40000: JANDI did not post it', async () => {
    harness.standin.setMode(DEFAULT_PATH, 'ok-with-invalid-token');
    const [id] = await harness.enqueue(1, 'taxinvoice-issue.json', 'ok-but-40000');
    await waitFor(async () => (await state(id)) === 'failed', 15_000, 'the dead letter');
    const dead = await harness.queue.getJob(id);
    expect(dead?.failedReason).toContain('HTTP 200 code 40000');
    expect(harness.standin.count(DEFAULT_PATH, 200)).toBe(1);
    expect(harness.deliveredIds(DEFAULT_PATH)).toEqual([]);
  });

  it('cools down on a 200 whose body carries code 42900 and delivers afterwards', async () => {
    harness.standin.setMode(DEFAULT_PATH, 'ok-with-rate-limit');
    const [id] = await harness.enqueue(1, 'taxinvoice-open.json', 'ok-but-42900');
    await waitFor(() => harness.standin.count(DEFAULT_PATH, 200) >= 1, 15_000, 'a 200 with 42900');
    harness.standin.setMode(DEFAULT_PATH, 'ok');
    await waitFor(async () => (await state(id)) === 'completed', 15_000, 'the delivery');
    expect(harness.deliveredIds(DEFAULT_PATH)).toEqual([id]);
    expect((await harness.queue.getJob(id))?.attemptsMade).toBe(1);
  });
});
