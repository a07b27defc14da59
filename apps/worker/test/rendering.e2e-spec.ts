import { DELIVER_EVENT_JOB, RELAY_JOB_OPTIONS, type PopbillEventJobV1 } from '@app/contracts';
import { waitFor } from '../../../test/support/process';
import { fixtureJob } from './popbill-fixtures';
import { DEFAULT_PATH, WorkerHarness } from './worker-harness';

const LINK = '[[계좌 변경 안내]](https://evil.example/pay)';

describe('what a webhook can put into a JANDI topic (e2e)', () => {
  const harness = new WorkerHarness('rendering');

  beforeAll(async () => {
    await harness.start();
    await harness.startWorker();
  }, 30_000);

  afterEach(() => harness.standin.reset());
  afterAll(() => harness.close());

  const enqueue = async (job: PopbillEventJobV1) => {
    await harness.queue.add(DELIVER_EVENT_JOB, job, { ...RELAY_JOB_OPTIONS, jobId: job.eventId });
  };
  const state = async (id: string) => (await harness.queue.getJob(id))?.getState();

  it('delivers an injected link as readable, inert text', async () => {
    const job = fixtureJob('taxinvoice-issue.json', {
      eventId: 'injected-link',
      webhookType: 'TAXINVOICE.STATE',
      eventType: 'Issue',
      corpNum: LINK,
      headers: { 'pb-webhook-corpnum': LINK, 'pb-webhook-eventtype': LINK },
    });
    job.body = { ...job.body, ntsConfirmNum: LINK, memo: `송금은 www.evil.example ${LINK}` };
    await enqueue(job);
    await waitFor(
      () => harness.standin.acceptedFor(DEFAULT_PATH).length === 1,
      15_000,
      'the message at JANDI',
    );
    const [message] = harness.standin.acceptedFor(DEFAULT_PATH);
    const text = JSON.stringify({ body: message.body, connectInfo: message.connectInfo });
    expect(text).not.toContain('[[');
    expect(text).not.toContain('](');
    expect(text).not.toContain('://');
    expect(text).not.toContain('www.');
    expect(message.body).toContain('승인번호 ［［계좌 변경 안내]］(https:／／evil.example/pay)');
    expect(message.connectInfo).toContainEqual({
      title: 'memo',
      description: '송금은 www．evil.example ［［계좌 변경 안내]］(https:／／evil.example/pay)',
    });
  });

  it('delivers the widest body ingest accepts once, without losing the job lock', async () => {
    const job = fixtureJob('unknown-type.json', { eventId: 'widest-body' });
    job.body = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`f${i}`, 'v']));
    await enqueue(job);
    await waitFor(async () => (await state(job.eventId)) === 'completed', 20_000, 'delivery');
    expect(harness.deliveredIds(DEFAULT_PATH)).toEqual([job.eventId]);
    // A render longer than the lock would have made the job stall and run again.
    const done = await harness.queue.getJob(job.eventId);
    expect(done?.attemptsMade).toBe(1);
    expect(done?.stalledCounter ?? 0).toBe(0);
  });
});
