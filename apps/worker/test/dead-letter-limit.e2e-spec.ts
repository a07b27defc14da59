import { waitFor } from '../../../test/support/process';
import { DEFAULT_PATH, WorkerHarness } from './worker-harness';

describe('bounded dead letters (e2e)', () => {
  const harness = new WorkerHarness('dlmax');
  let port = 0;
  let worker: Awaited<ReturnType<WorkerHarness['startWorker']>>['app'];

  beforeAll(async () => {
    await harness.start();
    ({ app: worker, port } = await harness.startWorker({ DEAD_LETTER_MAX: '2' }));
  }, 30_000);
  afterAll(() => harness.close());

  it('keeps at most DEAD_LETTER_MAX, removing the oldest with a warning and a counter', async () => {
    harness.standin.setMode(DEFAULT_PATH, 'invalid-token');
    const removed = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(
        /^relay_dead_letters_removed_total\{cause="limit"\} (\d+)/m.exec(text)?.[1] ?? 0,
      );
    };
    for (const label of ['first', 'second', 'third', 'fourth', 'fifth']) {
      const [id] = await harness.enqueue(1, 'taxinvoice-nts-failed.json', label);
      await waitFor(
        async () => (await harness.queue.getJobState(id)) !== 'waiting',
        15_000,
        `${id} handled`,
      );
      await waitFor(
        async () => (await harness.queue.getJobCountByTypes('failed')) <= 2,
        15_000,
        'the limit held',
      );
    }
    await waitFor(async () => (await removed()) === 3, 15_000, 'three removals counted');
    const left = (await harness.queue.getJobs(['failed'])).map((job) => job.id).sort();
    expect(left).toEqual(['fifth-0', 'fourth-0']);
    expect(worker.output()).toMatch(/removed the 1 oldest dead letter\(s\) over DEAD_LETTER_MAX=2/);
  });
});
