/**
 * npm run bench:worker — the built worker (dist/) against the JANDI stand-in, windows scaled
 * down to 6/1s,50/10s. Phase 1: a backlog drained by three worker processes (utilisation,
 * 429s, worst sliding windows). Phase 2: traffic below quota (end-to-end lag).
 */
import { performance } from 'node:perf_hooks';
import { printRows, runBench } from './support';
import { waitFor, sleep } from '../test/support/process';
import { parseRateLimits } from '../apps/worker/src/config/rate-limits';
import { idealDurationMs, worstWindow } from '../test/support/quota-math';
import { DEFAULT_PATH, SCALED_LIMITS, WorkerHarness } from '../apps/worker/test/worker-harness';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 160);
const BELOW_QUOTA = Number(process.env.BENCH_BELOW_QUOTA ?? 40);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 3);
const QUIET_PATH = '/connect-api/webhook/9/quiet-token';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const harness = new WorkerHarness('bench');
  await harness.start();
  try {
    const env = {
      JANDI_WEBHOOK_URL_QUIET: harness.standin.url(QUIET_PATH),
      JANDI_ROUTES_FILE: harness.routesFile([
        { match: { eventType: 'OPEN' }, destination: 'quiet' },
      ]),
      WORKER_CONCURRENCY: '8',
    };
    await Promise.all(Array.from({ length: WORKERS }, () => harness.startWorker(env)));

    // Phase 1: backlog.
    const started = performance.now();
    await harness.enqueue(BACKLOG, 'taxinvoice-issue.json', 'backlog');
    await waitFor(
      () => harness.standin.acceptedFor(DEFAULT_PATH).length >= BACKLOG,
      600_000,
      'the backlog',
      20,
    );
    const wall = performance.now() - started;
    const times = harness.standin
      .acceptedFor(DEFAULT_PATH)
      .map((m) => m.at)
      .sort((a, b) => a - b);
    const elapsed = times[times.length - 1] - times[0];
    const limits = parseRateLimits(SCALED_LIMITS);
    const ideal = idealDurationMs(BACKLOG, limits);

    // Phase 2: below quota, one event every 250 ms (4/s against 6/1s and 50/10s).
    const lags: number[] = [];
    for (let i = 0; i < BELOW_QUOTA; i++) {
      await harness.enqueue(1, 'taxinvoice-open.json', `quiet-${i}`);
      await sleep(250);
    }
    await waitFor(
      () => harness.standin.acceptedFor(QUIET_PATH).length >= BELOW_QUOTA,
      60_000,
      'below-quota events',
    );
    for (const message of harness.standin.acceptedFor(QUIET_PATH)) {
      const id = message.connectInfo?.find((e) => e.title === '이벤트 ID')?.description ?? '';
      const job = await harness.queue.getJob(id);
      // job.timestamp: when the event was enqueued, as ingest does right after receiving it.
      if (job) lags.push(message.at - job.timestamp);
    }
    lags.sort((a, b) => a - b);

    const rows: [string, string][] = [
      ['worker processes', String(WORKERS)],
      ['rate limits', SCALED_LIMITS],
      [
        'messages delivered (backlog)',
        `${harness.standin.acceptedFor(DEFAULT_PATH).length} / ${BACKLOG}`,
      ],
      [
        'elapsed, first → last send',
        `${(elapsed / 1000).toFixed(2)} s (wall ${(wall / 1000).toFixed(2)} s)`,
      ],
      ['fastest schedule the quota allows', `${(ideal / 1000).toFixed(2)} s`],
      ['quota utilisation', `${((ideal / elapsed) * 100).toFixed(1)} %`],
      ['429 responses', String(harness.standin.requests.filter((r) => r.status === 429).length)],
      ...limits.map((l): [string, string] => [
        `worst ${l.windowMs} ms window`,
        `${worstWindow(times, l.windowMs)} / ${l.count}`,
      ]),
      ['below quota: messages', String(lags.length)],
      ['below quota: p50 end-to-end lag', `${percentile(lags, 50).toFixed(0)} ms`],
      ['below quota: p99 end-to-end lag', `${percentile(lags, 99).toFixed(0)} ms`],
    ];
    printRows('worker benchmark (JANDI stand-in, scaled windows)', rows);
  } finally {
    await harness.close();
  }
}

runBench(main);
