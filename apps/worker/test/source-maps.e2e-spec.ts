import { RELAY_JOB_OPTIONS } from '@app/contracts';
import { waitFor } from '../../../test/support/process';
import { WorkerHarness } from './worker-harness';

describe('stack traces of the built worker', () => {
  const harness = new WorkerHarness('srcmap');

  beforeAll(async () => {
    await harness.start();
    await harness.startWorker();
  }, 30_000);
  afterAll(() => harness.close());

  it('point at the TypeScript line that threw', async () => {
    await harness.queue.add('not an event', { v: 99 }, { ...RELAY_JOB_OPTIONS, jobId: 'bad-1' });
    await waitFor(
      async () => (await harness.queue.getJobState('bad-1')) === 'failed',
      15_000,
      'the malformed job to be dead-lettered',
    );
    const [top] = (await harness.queue.getJob('bad-1'))?.stacktrace ?? [];
    expect(top).toMatch(/^UnrecoverableError: malformed job: bad-1/);
    expect(top).toMatch(/\bapps\/worker\/src\/delivery\/jandi-delivery\.processor\.ts:\d+:\d+/);
  });
});
