/**
 * npm run bench:burst — a month-end burst of 10,000 Popbill events through the built worker
 * (dist/) into the JANDI stand-in, at JANDI's real quotas (60/1m,500/10m) and latency target
 * (60 s): it takes as long as the burst takes to be visible, about 2–3 minutes. BENCH_SCALE=60
 * divides every time by 60 for a quick run (60/1s,500/10s, target 1 s, the burst stored with
 * the queue paused), but there the workers' own CPU time, which is not scaled, decides more than
 * the quota does. Prints when every event was visible in JANDI, the requests it took, events
 * per message and 429s, then what the same requests mean at the real quotas.
 */
import { performance } from 'node:perf_hooks';
import { printRows, runBench } from './support';
import { waitFor } from '../test/support/process';
import { messagesWithin } from '../apps/worker/src/digest/digest-policy';
import { parseRateLimits } from '../apps/worker/src/config/rate-limits';
import { idealDurationMs, worstWindow } from '../test/support/quota-math';
import { enqueueBurst, isDigest, shownCounts } from '../apps/worker/test/burst';
import { DEFAULT_PATH, WorkerHarness } from '../apps/worker/test/worker-harness';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const SCALED = `60/${60 / SCALE}s,500/${600 / SCALE}s`;
const REAL = '60/1m,500/10m';
const TARGET_MS = 60_000 / SCALE;
/** Empty: the worker's own DIGEST_MAX_EVENTS default. */
const MAX_EVENTS = process.env.BENCH_DIGEST_MAX_EVENTS ?? '';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

async function main(): Promise<void> {
  const harness = new WorkerHarness('burst');
  const limits = parseRateLimits(SCALED);
  harness.standin.setWindows(limits);
  await harness.start();
  try {
    const env = {
      JANDI_RATE_LIMITS: SCALED,
      DIGEST_LATENCY_TARGET_MS: String(TARGET_MS),
      DIGEST_MAX_EVENTS: MAX_EVENTS,
      WORKER_CONCURRENCY: '16',
      JANDI_RATE_SAFETY_MS: String(Math.round(500 / SCALE)),
    };
    await Promise.all(Array.from({ length: WORKERS }, () => harness.startWorker(env)));

    // Scaled, a burst is held until stored: storing takes seconds, which the scale would turn
    // into minutes of arrival.
    const paused = SCALE > 1;
    const enqueuing = performance.now();
    if (paused) await harness.queue.pause();
    const burst = await enqueueBurst(harness.queue, 'M', EVENTS, 100);
    const enqueued = performance.now() - enqueuing;
    const started = paused ? performance.now() : enqueuing;
    if (paused) await harness.queue.resume();
    await waitFor(
      () => shownCounts(harness.standin.acceptedFor(DEFAULT_PATH)).size >= EVENTS,
      600_000,
      'every event visible in JANDI',
      20,
    );
    const visible = performance.now() - started;
    await waitFor(
      async () => (await harness.queue.getJobCounts('completed')).completed >= EVENTS,
      600_000,
      'every job completed',
      100,
    );
    const completed = performance.now() - started;

    const messages = harness.standin.acceptedFor(DEFAULT_PATH);
    const counts = shownCounts(messages);
    const perMessage = messages.map((m) => shownCounts([m]).size).sort((a, b) => a - b);
    const digests = messages.filter(isDigest);
    const times = messages.map((m) => m.at);
    const requests = harness.standin.requests.length;
    const tooMany = harness.standin.requests.filter((r) => r.status === 429).length;
    const shownTwice = [...counts.values()].filter((n) => n > 1).length;
    const missing = burst.itemKeys.filter((k) => !counts.has(k)).length;

    const real = parseRateLimits(REAL);
    const realQuotaMs = idealDurationMs(requests, real);
    const rows: [string, string][] = [
      ['events (1 in 100 an NTS failure)', String(EVENTS)],
      ['worker processes', String(WORKERS)],
      ['quota / latency target', `${SCALED} / ${seconds(TARGET_MS)} (time ÷ ${SCALE})`],
      [`enqueue time${paused ? ' (queue paused meanwhile)' : ''}`, seconds(enqueued)],
      ['every event visible in JANDI after', seconds(visible)],
      ['every job completed after', seconds(completed)],
      ['requests to JANDI', `${requests} (one per event: ${EVENTS})`],
      ['messages accepted / digests', `${messages.length} / ${digests.length}`],
      [
        'events per message: mean / median / max',
        `${(EVENTS / messages.length).toFixed(1)} / ${perMessage[perMessage.length >> 1]} / ${perMessage[perMessage.length - 1]}`,
      ],
      ['429 responses', String(tooMany)],
      ['events shown twice / missing', `${shownTwice} / ${missing}`],
      ...limits.map((l): [string, string] => [
        `worst ${l.windowMs} ms window`,
        `${worstWindow(times, l.windowMs)} / ${l.count}`,
      ]),
      ['at real quota: one message per event', minutes(idealDurationMs(EVENTS, real))],
      ['at real quota: these requests', `${minutes(realQuotaMs)} (${REAL}, quiet start)`],
      [
        'at real quota: every event visible after',
        SCALE === 1
          ? `${minutes(visible)} (measured)`
          : `${minutes(visible * SCALE)} (time × ${SCALE}; upper bound: job handling is not scaled)`,
      ],
      ['at real quota: requests a 12 min target allows', String(messagesWithin(12 * 60_000, real))],
    ];
    printRows('burst benchmark (JANDI stand-in, JANDI quotas scaled in time)', rows);
  } finally {
    await harness.close();
  }
}

runBench(main);
