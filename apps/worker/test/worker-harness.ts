import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  eventJobName,
  RELAY_JOB_OPTIONS,
  RELAY_QUEUE,
  type PopbillEventJobV1,
} from '@app/contracts';
import { JandiStandin } from '@app/jandi-standin';
import { Queue, type JobsOptions } from 'bullmq';
import { freePort, startApp, type RunningApp } from '../../../test/support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { worstWindow } from '../../../test/support/quota-math';
import { fixtureJob } from './popbill-fixtures';

export const SCALED_LIMITS = '6/1s,50/10s';
export const SCALED_WINDOWS = [
  { count: 6, windowMs: 1000 },
  { count: 50, windowMs: 10_000 },
];

/** One e2e world: a queue prefix, a JANDI stand-in, a producer queue and worker processes. */
export class WorkerHarness {
  readonly prefix: string;
  readonly standin = new JandiStandin({ windows: SCALED_WINDOWS });
  readonly queue: Queue;
  private readonly apps: RunningApp[] = [];

  constructor(label: string) {
    this.prefix = uniquePrefix(label);
    this.queue = new Queue(RELAY_QUEUE, {
      connection: { url: TEST_REDIS_URL },
      prefix: this.prefix,
    });
  }

  async start(): Promise<void> {
    await this.standin.listen();
  }

  /** Starts `node dist/apps/worker/main.js`; returns it and its metrics port. */
  async startWorker(env: Record<string, string> = {}): Promise<{ app: RunningApp; port: number }> {
    const port = await freePort();
    const app = await startApp(
      'worker',
      {
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: this.prefix,
        JANDI_WEBHOOK_URL: this.standin.url('/connect-api/webhook/1/default-token'),
        JANDI_RATE_LIMITS: SCALED_LIMITS,
        JANDI_RATE_SAFETY_MS: '0',
        JANDI_INLINE_WAIT_MS: '100',
        JANDI_COOLDOWN_MS: '500',
        JANDI_TIMEOUT_MS: '2000',
        WORKER_LOCK_DURATION_MS: '2000',
        WORKER_STALLED_INTERVAL_MS: '1000',
        SHUTDOWN_GRACE_MS: '3000',
        ADMIN_PORT: String(port),
        LOG_LEVEL: 'warn',
        ...env,
      },
      `http://127.0.0.1:${port}/health/ready`,
    );
    this.apps.push(app);
    return { app, port };
  }

  /** Enqueues like ingest does: jobId = event id, the contract's options. */
  async enqueue(
    count: number,
    fixture = 'taxinvoice-issue.json',
    label = 'ev',
    opts: JobsOptions = {},
  ): Promise<string[]> {
    const jobs = Array.from({ length: count }, (_, i) => {
      const eventId = `${label}-${i}`;
      const data: PopbillEventJobV1 = fixtureJob(fixture, { eventId, requestId: `req-${eventId}` });
      return {
        name: eventJobName(data),
        data,
        opts: { ...RELAY_JOB_OPTIONS, ...opts, jobId: eventId },
      };
    });
    await this.queue.addBulk(jobs);
    return jobs.map((job) => job.data.eventId);
  }

  /** Event ids the stand-in accepted on a path (read back from the rendered connectInfo). */
  deliveredIds(path: string): string[] {
    return this.standin
      .acceptedFor(path)
      .map((m) => m.connectInfo?.find((e) => e.title === '이벤트 ID')?.description ?? '?');
  }

  worstWindows(path: string): { windowMs: number; count: number; worst: number }[] {
    const times = this.standin.acceptedFor(path).map((m) => m.at);
    return SCALED_WINDOWS.map((w) => ({ ...w, worst: worstWindow(times, w.windowMs) }));
  }

  /** Writes a routes file; `destinations` (name → URL) go in the file itself. */
  routesFile(routes: unknown, destinations?: Record<string, string>): string {
    const file = join(tmpdir(), `routes-${this.prefix.replace(/\W/g, '')}.json`);
    writeFileSync(file, JSON.stringify(destinations ? { destinations, routes } : { routes }));
    return file;
  }

  async close(): Promise<void> {
    await Promise.all(this.apps.map((app) => app.kill()));
    await this.queue.close();
    await this.standin.close();
    await deletePrefix(TEST_REDIS_URL, this.prefix);
  }
}

export const DEFAULT_PATH = '/connect-api/webhook/1/default-token';
