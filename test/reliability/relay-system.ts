import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RELAY_QUEUE } from '@app/contracts';
import { JandiStandin, type AcceptedMessage, type StandinWindow } from '@app/jandi-standin';
import { Queue, type ConnectionOptions } from 'bullmq';
import { freePort, sleep, startApp, type RunningApp } from '../support/process';
import { POPBILL_FIXTURES } from '../support/fixtures';
import { RedisServer } from '../support/redis';

export const JANDI_PATH = '/connect-api/webhook/1/reliability-secret-token-0123456789';

const fixture = JSON.parse(
  readFileSync(join(POPBILL_FIXTURES, 'taxinvoice-issue.json'), 'utf8'),
) as { headers: Record<string, string>; body: Record<string, unknown> };

/** One Popbill event with a document key unique to this run, so its delivery can be traced. */
export interface TestEvent {
  mid: string;
  itemKey: string;
  body: Record<string, unknown>;
}

let runCounter = 0;

/** Item keys are 18 digits: "0269" + a 4-digit run tag + a 10-digit sequence. */
export function makeEvents(count: number): TestEvent[] {
  const run = String((process.pid * 7 + runCounter++) % 10_000).padStart(4, '0');
  return Array.from({ length: count }, (_, i) => {
    const itemKey = `0269${run}${String(i).padStart(10, '0')}`;
    return { mid: `rel-${run}-${i}`, itemKey, body: { ...fixture.body, itemKey } };
  });
}

export interface SendTally {
  sent: number;
  acked: Set<string>;
  answered503: number;
  answered5xx: number;
  otherStatuses: number;
  /** Date.now() of the first and last 503 answer; null without any. */
  first503At: number | null;
  last503At: number | null;
}

export const emptyTally = (): SendTally => ({
  sent: 0,
  acked: new Set(),
  answered503: 0,
  answered5xx: 0,
  otherStatuses: 0,
  first503At: null,
  last503At: null,
});

export interface RelaySystemOptions {
  workers: number;
  /** Worker quota; the stand-in enforces the same windows. */
  limits: StandinWindow[];
  ingestEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  /** A Redis of the scenario's own (not started yet, full, a Sentinel group's master…). */
  redis?: RedisServer;
  /** Where the apps find Redis, instead of REDIS_URL of `redis` (e.g. REDIS_SENTINELS). */
  redisEnv?: Record<string, string>;
  /** How the test's own queue client finds Redis, with `redisEnv`. */
  queueConnection?: ConnectionOptions;
  /** Start the apps without waiting for them to be ready (Redis is not there yet). */
  liveOnly?: boolean;
}

const limitsEnv = (limits: StandinWindow[]) =>
  limits.map((l) => `${l.count}/${l.windowMs}ms`).join(',');

/**
 * The whole relay as operators run it: a private redis-server (AOF, fsync always), the built
 * ingest and worker processes, and the JANDI stand-in.
 */
export class RelaySystem {
  readonly standin: JandiStandin;
  readonly workers: RunningApp[] = [];
  /** METRICS_PORT of each worker, in start order. */
  readonly workerPorts: number[] = [];
  readonly queue: Queue;
  private readonly allOutput: string[] = [];
  ingest!: RunningApp;
  ingestUrl = '';
  /** Ingest's admin port: Bull Board, /metrics. */
  ingestAdminUrl = '';

  private constructor(
    readonly redis: RedisServer,
    private readonly options: RelaySystemOptions,
    readonly prefix = '{reliability}',
  ) {
    this.standin = new JandiStandin({ windows: options.limits });
    this.queue = new Queue(RELAY_QUEUE, {
      connection: options.queueConnection ?? { url: redis.url },
      prefix,
    });
    this.queue.on('error', () => undefined);
  }

  static async start(options: RelaySystemOptions): Promise<RelaySystem> {
    const system = new RelaySystem(options.redis ?? (await RedisServer.start()), options);
    try {
      await system.standin.listen();
      await system.startIngest();
      for (let i = 0; i < options.workers; i++) await system.startWorker();
      return system;
    } catch (error) {
      // A half-started system would keep its redis-server and the test run alive.
      await system.stop();
      throw error;
    }
  }

  async startIngest(): Promise<void> {
    const port = await freePort();
    const adminPort = await freePort();
    this.ingestUrl = `http://127.0.0.1:${port}`;
    this.ingestAdminUrl = `http://127.0.0.1:${adminPort}`;
    this.ingest = await startApp(
      'ingest',
      {
        ...this.redisEnv(),
        QUEUE_PREFIX: this.prefix,
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        HOST: '127.0.0.1',
        ENQUEUE_TIMEOUT_MS: '1000',
        ...this.options.ingestEnv,
      },
      `${this.ingestUrl}/health/${this.options.liveOnly ? 'live' : 'ready'}`,
    );
  }

  async startWorker(env: Record<string, string> = {}): Promise<RunningApp> {
    const port = await freePort();
    const worker = await startApp(
      'worker',
      {
        ...this.redisEnv(),
        QUEUE_PREFIX: this.prefix,
        JANDI_WEBHOOK_URL: this.standin.url(JANDI_PATH),
        JANDI_RATE_LIMITS: limitsEnv(this.options.limits),
        JANDI_RATE_SAFETY_MS: '0',
        JANDI_INLINE_WAIT_MS: '200',
        JANDI_COOLDOWN_MS: '500',
        // A loaded 2-core CI machine can take over a second to answer; each timeout resends an
        // event JANDI already took, which these scenarios would count as a duplicate.
        JANDI_TIMEOUT_MS: '3000',
        RETRY_BACKOFF_CEILING_MS: '500',
        WORKER_LOCK_DURATION_MS: '2000',
        WORKER_STALLED_INTERVAL_MS: '1000',
        WORKER_CONCURRENCY: '16',
        SHUTDOWN_GRACE_MS: '2000',
        METRICS_PORT: String(port),
        ...this.options.workerEnv,
        ...env,
      },
      `http://127.0.0.1:${port}/health/live`,
    );
    this.workers.push(worker);
    this.workerPorts.push(port);
    return worker;
  }

  private redisEnv(): Record<string, string> {
    return this.options.redisEnv ?? { REDIS_URL: this.redis.url };
  }

  /** POSTs like Popbill: up to `tries` sends, `resendDelayMs` apart, until one gets 200 OK. */
  async sendLikePopbill(
    event: TestEvent,
    tally: SendTally,
    tries = 4,
    resendDelayMs = 500,
  ): Promise<void> {
    tally.sent++;
    for (let attempt = 1; attempt <= tries; attempt++) {
      let status: number;
      let text = '';
      try {
        const response = await fetch(`${this.ingestUrl}/webhooks/popbill`, {
          method: 'POST',
          headers: { ...lowerCase(fixture.headers), 'pb-webhook-mid': event.mid },
          body: JSON.stringify(event.body),
          signal: AbortSignal.timeout(5000),
        });
        status = response.status;
        text = await response.text();
      } catch {
        status = 0;
      }
      if (status === 200 && text === 'OK') {
        tally.acked.add(event.mid);
        return;
      }
      if (status === 503) {
        tally.answered503++;
        tally.first503At ??= Date.now();
        tally.last503At = Date.now();
      } else if (status >= 500) tally.answered5xx++;
      else tally.otherStatuses++;
      await sleep(resendDelayMs);
    }
  }

  /** Sends events at most `concurrency` at a time, spaced to roughly `ratePerSecond`. */
  async sendAll(
    events: TestEvent[],
    tally: SendTally,
    ratePerSecond: number,
    concurrency = 32,
    resendDelayMs = 500,
  ): Promise<void> {
    let next = 0;
    const started = Date.now();
    const lane = async () => {
      while (next < events.length) {
        const index = next++;
        const due = started + (index * 1000) / ratePerSecond;
        if (due > Date.now()) await sleep(due - Date.now());
        await this.sendLikePopbill(events[index], tally, 4, resendDelayMs);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  }

  /** How many accepted JANDI messages show each item key. */
  deliveries(events: TestEvent[]): Map<string, number> {
    const wanted = new Set(events.map((e) => e.itemKey));
    const seen = new Map<string, number>();
    for (const message of this.standin.acceptedFor(JANDI_PATH)) {
      for (const key of this.itemKeysOf(message))
        if (wanted.has(key)) seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    return seen;
  }

  // Read once per message: scenarios poll this while the stand-in in this process must keep up.
  private readonly keysByMessage = new WeakMap<AcceptedMessage, Set<string>>();

  private itemKeysOf(message: AcceptedMessage): Set<string> {
    let keys = this.keysByMessage.get(message);
    if (!keys) {
      keys = new Set(JSON.stringify(message).match(/0269\d{14}/g) ?? []);
      this.keysByMessage.set(message, keys);
    }
    return keys;
  }

  async waitForDelivery(events: TestEvent[], acked: Set<string>, timeoutMs: number): Promise<void> {
    const ackedKeys = events.filter((e) => acked.has(e.mid)).map((e) => e.itemKey);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const seen = this.deliveries(events);
      if (ackedKeys.every((key) => seen.has(key))) return;
      await sleep(200);
    }
  }

  count429(): number {
    return this.standin.count(JANDI_PATH, 429);
  }

  /** Everything every process printed, for the secrets grep. */
  output(): string {
    return [...this.allOutput, this.ingest.output(), ...this.workers.map((w) => w.output())].join(
      '\n',
    );
  }

  async stop(): Promise<void> {
    // ingest is unset when it failed to start.
    for (const app of [this.ingest, ...this.workers].filter(Boolean)) {
      this.allOutput.push(app.output());
      await app.stop(3000);
    }
    await this.queue.close().catch(() => undefined);
    await this.standin.close();
    await this.redis.stop();
  }
}

const lowerCase = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

export function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS until stopped; returns the peak in MB. */
export function rssSampler(pid: number | undefined): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMb(pid));
    },
  };
}
