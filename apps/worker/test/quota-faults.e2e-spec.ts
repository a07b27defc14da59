import Redis from 'ioredis';
import { sleep, waitFor } from '../../../test/support/process';
import { TEST_REDIS_URL } from '../../../test/support/redis';
import { quotaKey } from '../src/rate-limit/jandi-quota.limiter';
import { worstWindow } from '../../../test/support/quota-math';
import { enqueueBurst, shownCounts } from './burst';
import { QuotaTrace } from './quota-trace';
import { DEFAULT_PATH, WorkerHarness } from './worker-harness';

const WINDOW = { count: 4, windowMs: 1000 };
const TIMEOUT_MS = 1500;
/** Longer than a send's whole flight plus a window: the limiter has forgotten the paused send. */
const PAUSE_MS = 2 * TIMEOUT_MS + WINDOW.windowMs + 500;
/** JANDI counts the request after our timeout gave up on it, but within the flight margin. */
const LATE_COUNT_MS = TIMEOUT_MS + 400;

/** Where in acquire → write → answer → settle the fault lands. */
type Point = 'granted' | 'written' | 'answered' | 'counted-late';
type Fault = 'pause' | 'kill';

/**
 * Pauses (SIGSTOP, then SIGCONT after PAUSE_MS) or kills every worker at one point of a send,
 * found from Redis keyspace events on the quota's flight set (a grant) and from the JANDI
 * stand-in's own hooks (written, answered), so each point is hit without hooks in the worker.
 */
class FaultInjector {
  private armed: { point: Point; fault: Fault; fired: () => void } | null = null;
  private resumed: Promise<void> = Promise.resolve();
  private readonly subscriber = new Redis(TEST_REDIS_URL);
  private readonly admin = new Redis(TEST_REDIS_URL);
  private previousEvents: string | null = null;
  firedAt = 0;

  constructor(
    private readonly harness: WorkerHarness,
    private readonly workers: () => number[],
    private readonly trace: QuotaTrace,
  ) {
    harness.standin.setHooks({
      beforeCount: async () => {
        if (this.armed?.point === 'counted-late') {
          this.fire();
          await sleep(LATE_COUNT_MS);
        }
      },
      beforeAnswer: async () => {
        if (this.armed?.point === 'written') {
          this.fire();
          await this.resumed;
        }
      },
      afterAnswer: (_path, body) => {
        this.trace.arrival(body);
        if (this.armed?.point === 'answered') this.fire();
      },
    });
    this.subscriber.on('pmessage', (_pattern, _channel, event) => {
      if (event === 'zadd' && this.armed?.point === 'granted') this.fire();
    });
  }

  async start(url: string): Promise<void> {
    const [, events] = (await this.admin.config('GET', 'notify-keyspace-events')) as string[];
    this.previousEvents = events;
    await this.admin.config('SET', 'notify-keyspace-events', `${events}Kz`);
    await this.subscriber.psubscribe(`__keyspace@*__:${quotaKey(this.harness.prefix, url)}:flight`);
  }

  async close(): Promise<void> {
    if (this.previousEvents !== null)
      await this.admin.config('SET', 'notify-keyspace-events', this.previousEvents);
    this.subscriber.disconnect();
    this.admin.disconnect();
  }

  /** Resolves once the fault has landed at `point`; a pause has ended by then too. */
  async inject(point: Point, fault: Fault): Promise<void> {
    let release = () => undefined as void;
    this.resumed = new Promise((resolve) => (release = resolve));
    const fired = new Promise<void>((resolve) => (this.armed = { point, fault, fired: resolve }));
    await fired;
    if (fault === 'pause' && point !== 'counted-late') {
      await sleep(PAUSE_MS);
      for (const pid of this.workers()) process.kill(pid, 'SIGCONT');
      this.trace.note('SIGCONT');
    }
    release();
  }

  /** Runs synchronously inside the trigger, so the worker gets no further than the point. */
  private fire(): void {
    const armed = this.armed;
    if (!armed) return;
    this.armed = null;
    this.firedAt = Date.now();
    if (armed.point !== 'counted-late')
      for (const pid of this.workers())
        process.kill(pid, armed.fault === 'pause' ? 'SIGSTOP' : 'SIGKILL');
    armed.fired();
  }
}

const POINTS: Point[] = ['granted', 'written', 'answered', 'counted-late'];

async function sendUnderFaults(
  label: string,
  env: Record<string, string>,
  rounds: number,
  burstSize: number,
) {
  const harness = new WorkerHarness(label);
  harness.standin.setWindows([WINDOW]);
  await harness.start();
  const url = harness.standin.url(DEFAULT_PATH);
  const workerEnv = {
    JANDI_RATE_LIMITS: `${WINDOW.count}/${WINDOW.windowMs}ms`,
    JANDI_TIMEOUT_MS: String(TIMEOUT_MS),
    WORKER_CONCURRENCY: '4',
    ...env,
  };
  const pids = new Map<number, number>();
  // Settled, not raced: a worker still starting when its twin failed would outlive the test.
  const startWorkers = async () => {
    const started = await Promise.allSettled([0, 1].map(() => harness.startWorker(workerEnv)));
    const apps = started.map((result) => {
      if (result.status === 'rejected') throw result.reason;
      return result.value.app;
    });
    apps.forEach((app, i) => pids.set(i, app.child.pid ?? 0));
    return apps;
  };
  const trace = new QuotaTrace(harness.standin, quotaKey(harness.prefix, url));
  const faults = new FaultInjector(harness, () => [...pids.values()], trace);
  const itemKeys: string[] = [];
  const timeline: { at: number; fault: string }[] = [];
  try {
    let workers = await startWorkers();
    trace.start();
    await faults.start(url);
    let series = 0;
    for (let round = 0; round < rounds; round++) {
      for (const point of POINTS) {
        for (const fault of ['pause', 'kill'] as Fault[]) {
          if (point === 'counted-late' && fault === 'kill') continue;
          // Keep the quota saturated: a backlog of several windows' worth before every fault.
          const burst = await enqueueBurst(
            harness.queue,
            String.fromCharCode(65 + (series++ % 26)),
            burstSize,
          );
          itemKeys.push(...burst.itemKeys);
          const before = harness.standin.requests.length;
          await waitFor(
            () => harness.standin.requests.length >= before + 2,
            30_000,
            'a saturated quota',
          );
          await faults.inject(point, fault);
          timeline.push({ at: faults.firedAt, fault: `${fault} at ${point}` });
          if (fault === 'kill') {
            await Promise.all(workers.map((w) => w.kill()));
            workers = await startWorkers();
          }
          // What the fault left behind is sent before the next one, so each 429 names its cause.
          const after = harness.standin.requests.length;
          await waitFor(
            () => harness.standin.requests.length >= after + WINDOW.count,
            30_000,
            'sends after the fault',
          );
        }
      }
    }
    await waitFor(
      () =>
        itemKeys.every((key) => shownCounts(harness.standin.acceptedFor(DEFAULT_PATH)).has(key)),
      120_000,
      'every event shown in JANDI',
    );
    const answered = harness.standin.requests.filter((r) => r.path === DEFAULT_PATH);
    // Each 429 is named after the fault that fired last before it.
    const faultBefore = (at: number) => timeline.filter((f) => f.at <= at).pop()?.fault ?? 'none';
    const rejected = answered.filter((r) => r.status === 429).map((r) => r.at);
    const file = rejected.length > 0 ? trace.report(label, timeline, rejected) : '';
    return {
      tooMany: rejected.map((at) => `${faultBefore(at)} (timeline: ${file})`),
      worst: worstWindow(
        answered.filter((r) => r.status !== 429).map((r) => r.at),
        WINDOW.windowMs,
      ),
    };
  } finally {
    trace.close();
    await faults.close();
    await harness.close();
  }
}

describe('quota under paused and killed workers (e2e)', () => {
  it('never lets a send reach JANDI outside its window when workers pause or die mid-send', async () => {
    const { tooMany, worst } = await sendUnderFaults(
      'faults',
      { DIGEST_ENABLED: 'false' },
      2,
      3 * WINDOW.count,
    );
    expect(tooMany).toEqual([]);
    expect(worst).toBeLessThanOrEqual(WINDOW.count);
  }, 400_000);

  it('holds the same for digest sends', async () => {
    const { tooMany, worst } = await sendUnderFaults(
      'faults-digest',
      { DIGEST_LATENCY_TARGET_MS: '300', DIGEST_MAX_EVENTS: '5' },
      1,
      15 * WINDOW.count,
    );
    expect(tooMany).toEqual([]);
    expect(worst).toBeLessThanOrEqual(WINDOW.count);
  }, 400_000);
});
