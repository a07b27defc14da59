import { DELIVER_EVENT_JOB, RELAY_JOB_OPTIONS, type PopbillEventJobV1 } from '@app/contracts';
import { waitFor } from '../../../test/support/process';
import { fixtureJob } from './popbill-fixtures';
import { DEFAULT_PATH, SCALED_WINDOWS, WorkerHarness } from './worker-harness';
import { worstWindow } from '../../../test/support/quota-math';

const COMPANIES = ['1010000001', '1010000002', '1010000003', '1010000004'];
const pathOf = (corpNum: string) => `/connect-api/webhook/7/corp-${corpNum}-token`;
/** Each company gets more events than one window allows, so every topic's quota is exercised. */
const PER_COMPANY = 14;

describe('a partner routing each company to its own JANDI topic (e2e)', () => {
  const harness = new WorkerHarness('routing');

  beforeAll(async () => {
    await harness.start();
    const destinations = Object.fromEntries(
      COMPANIES.map((corpNum) => [`corp_${corpNum}`, harness.standin.url(pathOf(corpNum))]),
    );
    const routes = COMPANIES.map((corpNum) => ({
      match: { corpNum },
      destination: `corp_${corpNum}`,
    }));
    const env = { JANDI_ROUTES_FILE: harness.routesFile(routes, destinations) };
    await Promise.all([harness.startWorker(env), harness.startWorker(env)]);
  }, 60_000);

  afterAll(() => harness.close());

  it("delivers each company's events to its own topic, within each topic's quota", async () => {
    const jobs = [...COMPANIES, '9990000000'].flatMap((corpNum) =>
      Array.from({ length: PER_COMPANY }, (_, i) => {
        const eventId = `corp-${corpNum}-${i}`;
        const base = fixtureJob('taxinvoice-issue.json', { eventId, corpNum });
        const data: PopbillEventJobV1 = { ...base, body: { ...base.body, corpNum } };
        return { name: DELIVER_EVENT_JOB, data, opts: { ...RELAY_JOB_OPTIONS, jobId: eventId } };
      }),
    );
    // Interleaved, as a partner's month end arrives.
    jobs.sort(
      (a, b) => Number(a.data.eventId.split('-')[2]) - Number(b.data.eventId.split('-')[2]),
    );
    await harness.queue.addBulk(jobs);

    const paths = [...COMPANIES.map(pathOf), DEFAULT_PATH];
    await waitFor(
      () => paths.every((path) => harness.standin.acceptedFor(path).length >= PER_COMPANY),
      30_000,
      'every company in its topic',
    );
    for (const [i, corpNum] of [...COMPANIES, '9990000000'].entries()) {
      const ids = harness.deliveredIds(paths[i]).sort();
      const expected = Array.from({ length: PER_COMPANY }, (_, n) => `corp-${corpNum}-${n}`);
      expect(ids).toEqual(expected.sort());
      const times = harness.standin.acceptedFor(paths[i]).map((m) => m.at);
      for (const window of SCALED_WINDOWS)
        expect(worstWindow(times, window.windowMs)).toBeLessThanOrEqual(window.count);
    }
    expect(harness.standin.requests.filter((r) => r.status === 429)).toHaveLength(0);
    expect(harness.standin.accepted).toHaveLength(PER_COMPANY * paths.length);
  }, 60_000);
});
