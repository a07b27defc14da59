import { waitFor } from '../../../test/support/process';
import { DEFAULT_PATH, WorkerHarness } from './worker-harness';

describe('worker killed mid-backlog (e2e)', () => {
  const harness = new WorkerHarness('sigkill');

  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  it('loses nothing when a worker is SIGKILLed, and a SIGTERMed worker exits cleanly', async () => {
    // A slow JANDI keeps deliveries in flight when the kill lands.
    const [{ app: victim }, { app: survivor }] = await Promise.all([
      harness.startWorker({ WORKER_CONCURRENCY: '4' }),
      harness.startWorker({ WORKER_CONCURRENCY: '4' }),
    ]);
    const ids = await harness.enqueue(24, 'statement-issue.json', 'kill');
    await waitFor(
      () => harness.standin.acceptedFor(DEFAULT_PATH).length >= 8,
      20_000,
      'a third of the backlog',
    );
    await victim.kill();

    await waitFor(
      async () => (await harness.queue.getJobCounts('completed')).completed === ids.length,
      40_000,
      'every job completed',
    );
    const delivered = harness.deliveredIds(DEFAULT_PATH);
    expect(new Set(delivered)).toEqual(new Set(ids));
    expect(harness.standin.requests.filter((r) => r.status === 429)).toHaveLength(0);
    for (const window of harness.worstWindows(DEFAULT_PATH))
      expect(window.worst).toBeLessThanOrEqual(window.count);

    // An orderly shutdown that abandoned nothing exits 0; SIGKILL would mean it hung.
    expect(await survivor.stop(10_000)).toBe(0);
  }, 90_000);
});
