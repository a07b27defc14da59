import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { PopbillEventJob } from '@app/contracts';
import type { RedisWatch } from '@app/redis';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { fixtureJob } from '../../test/popbill-fixtures';
import type { DeadLetterPruner } from '../admin/dead-letter-pruner';
import { parseRoutesFile } from '../config/routes-file';
import { WorkerMetrics } from '../metrics/worker.metrics';
import type { OpsNotices } from '../ops/ops-notices';
import type { ShutdownSignal } from '../shutdown/shutdown.signal';
import type { SendReport } from './attempt-log';
import { JandiDeliveryProcessor } from './jandi-delivery.processor';
import type {
  DeliveryContext,
  DeliveryOutcome,
  JandiDeliveryService,
} from './jandi-delivery.service';

const SENT: SendReport = {
  destination: 'accounting',
  answer: 'HTTP 503',
  durationMs: 15,
  quotaWaitMs: 0,
};
const EVENT = fixtureJob('taxinvoice-issue.json', { eventId: 'ev-1', corpNum: '1234567890' });
const { routes } = parseRoutesFile({
  routes: [{ match: { corpNum: '1234567890' }, destination: 'accounting' }],
});

type JobPart =
  | 'id'
  | 'data'
  | 'attemptsMade'
  | 'delay'
  | 'finishedOn'
  | 'log'
  | 'moveToDelayed'
  | 'queueQualifiedName';

/** The part of a BullMQ job the processor reads and writes; BullMQ sets delay and finishedOn. */
class FakeJob implements Pick<Job<PopbillEventJob>, JobPart> {
  readonly logs: string[] = [];
  readonly movedToDelayed: { timestamp: number; token?: string }[] = [];
  delay = 0;
  finishedOn?: number;
  readonly queueQualifiedName = '{relay}:relay';
  constructor(
    public data: PopbillEventJob,
    public attemptsMade = 0,
    public id = 'job-1',
  ) {}
  log(line: string): Promise<number> {
    this.logs.push(line);
    return Promise.resolve(this.logs.length);
  }
  moveToDelayed(timestamp: number, token?: string): Promise<void> {
    this.movedToDelayed.push({ timestamp, token });
    return Promise.resolve();
  }
}

/** The processor takes a whole Job; it only touches the FakeJob part. */
const asJob = (job: FakeJob) => job as unknown as Job<PopbillEventJob>;

class FakeDelivery implements Pick<JandiDeliveryService, 'deliver'> {
  readonly calls: { jobId: string; attempt: number }[] = [];
  readonly jobKeys: DeliveryContext['jobKeys'][] = [];
  constructor(private readonly answer: () => Promise<DeliveryOutcome>) {}
  deliver(_event: PopbillEventJob, { jobKeys, ...ctx }: DeliveryContext) {
    this.calls.push(ctx);
    this.jobKeys.push(jobKeys);
    return this.answer();
  }
}

class FakeRedisWatch implements Pick<RedisWatch, 'watch' | 'noteWrite'> {
  readonly writes: (Error | null)[] = [];
  readonly watched: string[] = [];
  watch(name: string): void {
    this.watched.push(name);
  }
  noteWrite(error: Error | null): void {
    this.writes.push(error);
  }
}

class FakeOps implements Pick<OpsNotices, 'deadLettered'> {
  readonly deadLetters: { destination: string; reason: string }[] = [];
  deadLettered(destination: string, reason: string): void {
    this.deadLetters.push({ destination, reason });
  }
}

class FakePruner implements Pick<DeadLetterPruner, 'nudge'> {
  nudges = 0;
  nudge(): void {
    this.nudges++;
  }
}

class FakeShutdown implements Pick<ShutdownSignal, 'abort'> {
  aborted = false;
  abort(): void {
    this.aborted = true;
  }
}

function processorFor(outcome: DeliveryOutcome | Error, shutdownGraceMs = 20_000) {
  const delivery = new FakeDelivery(() =>
    outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome),
  );
  const redisWatch = new FakeRedisWatch();
  const ops = new FakeOps();
  const pruner = new FakePruner();
  const shutdown = new FakeShutdown();
  const metrics = new WorkerMetrics();
  const processor = new JandiDeliveryProcessor(
    delivery,
    metrics,
    shutdown,
    redisWatch,
    pruner,
    { routes, shutdownGraceMs },
    ops,
  );
  const deadLetters = async () =>
    (await metrics.deadLetters.get()).values
      .filter((v) => v.value > 0)
      .map((v) => ({ reason: v.labels.reason, value: v.value }));
  return { processor, delivery, redisWatch, ops, pruner, shutdown, deadLetters };
}

/** Runs one job through process and, on a failure, through onFailed as BullMQ would. */
async function run(
  outcome: DeliveryOutcome | Error,
  job = new FakeJob(EVENT),
  bullmq: { delay?: number; final?: boolean } = {},
) {
  const parts = processorFor(outcome);
  const error = await parts.processor.process(asJob(job), 'lock-token').then(
    () => null,
    (failure: Error) => failure,
  );
  if (error && !(error instanceof DelayedError)) {
    job.delay = bullmq.delay ?? 0;
    if (bullmq.final || error instanceof UnrecoverableError) job.finishedOn = Date.now();
    if (bullmq.final) job.attemptsMade++;
    parts.processor.onFailed(asJob(job), error);
  }
  return { ...parts, job, error };
}

describe('JandiDeliveryProcessor', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('completes a delivered job, with its attempt in the job log', async () => {
    const { job, error, delivery, redisWatch, processor } = await run(
      { kind: 'delivered', sent: { ...SENT, answer: 'HTTP 200' } },
      new FakeJob(EVENT, 2),
    );
    expect(error).toBeNull();
    expect(delivery.calls).toEqual([{ jobId: 'job-1', attempt: 3 }]);
    expect(job.logs).toEqual([
      'attempt 3 → accounting: HTTP 200 in 15 ms, quota wait 0 ms → delivered',
    ]);
    expect(redisWatch.writes).toEqual([null]);
    // Held until BullMQ has moved it on: the 'completed' event releases it.
    expect(processor.heldJobs()).toEqual(['job-1']);
    processor.released(asJob(job));
    expect(processor.heldJobs()).toEqual([]);
  });

  it("leaves the job log to the delivery that wrote its line with its marks, in BullMQ's keys", async () => {
    const { job, error, delivery } = await run({
      kind: 'delivered',
      sent: { ...SENT, answer: 'HTTP 200' },
      logged: true,
    });
    expect(error).toBeNull();
    expect(delivery.jobKeys).toEqual([
      { job: '{relay}:relay:job-1', log: '{relay}:relay:job-1:logs' },
    ]);
    expect(job.logs).toEqual([]);
  });

  it('completes an event already delivered (or folded into a digest) without a log line', async () => {
    const { job, error } = await run({ kind: 'delivered' });
    expect(error).toBeNull();
    expect(job.logs).toEqual([]);
  });

  it('delays a job waiting for quota or for its digest without burning an attempt', async () => {
    const before = Date.now();
    const { job, error, processor } = await run({ kind: 'wait', delayMs: 4000 });
    expect(error).toBeInstanceOf(DelayedError);
    expect(job.movedToDelayed).toHaveLength(1);
    expect(job.movedToDelayed[0].token).toBe('lock-token');
    expect(job.movedToDelayed[0].timestamp).toBeGreaterThanOrEqual(before + 4000);
    expect(job.movedToDelayed[0].timestamp).toBeLessThanOrEqual(Date.now() + 4000);
    expect(job.logs).toEqual([]);
    expect(processor.heldJobs()).toEqual([]);
  });

  it('delays a job cooling down after a 429, saying so in the job log', async () => {
    const { job, error } = await run({
      kind: 'wait',
      delayMs: 30_000,
      sent: { ...SENT, answer: 'HTTP 429' },
      decision: 'cooldown 30000 ms, not an attempt',
    });
    expect(error).toBeInstanceOf(DelayedError);
    expect(job.logs).toEqual([
      'attempt 1 → accounting: HTTP 429 in 15 ms, quota wait 0 ms → cooldown 30000 ms, not an attempt',
    ]);
    expect(job.movedToDelayed).toHaveLength(1);
  });

  it('dead-letters a rejected event at once, with a notice, a count and a nudge to the pruner', async () => {
    const { job, error, ops, pruner, deadLetters } = await run({
      kind: 'rejected',
      reason: 'JANDI rejected: HTTP 400 code 40000 "invalid token"',
      sent: { ...SENT, answer: 'HTTP 400 code 40000 "invalid token"' },
    });
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error?.message).toBe('JANDI rejected: HTTP 400 code 40000 "invalid token"');
    expect(job.logs).toEqual([
      'attempt 1 → accounting: HTTP 400 code 40000 "invalid token" in 15 ms, quota wait 0 ms → dead letter',
    ]);
    expect(await deadLetters()).toEqual([{ reason: 'JANDI rejected', value: 1 }]);
    expect(ops.deadLetters).toEqual([
      { destination: 'accounting', reason: 'JANDI rejected: HTTP 400 code 40000 "invalid token"' },
    ]);
    expect(pruner.nudges).toBe(1);
  });

  it('retries a failed send with the backoff BullMQ chose, logging when it runs again', async () => {
    const before = Date.now();
    const { job, error, ops, pruner, deadLetters } = await run(
      { kind: 'retry', reason: 'JANDI failed: HTTP 503', sent: SENT },
      new FakeJob(EVENT, 1),
      { delay: 60_000 },
    );
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect(error?.message).toBe('JANDI failed: HTTP 503');
    expect(job.logs).toHaveLength(1);
    const [, at] = /→ retry at (\S+)$/.exec(job.logs[0]) ?? [];
    expect(job.logs[0]).toMatch(/^attempt 2 → accounting: HTTP 503 in 15 ms, quota wait 0 ms → /);
    expect(Date.parse(at)).toBeGreaterThanOrEqual(before + 60_000);
    expect(Date.parse(at)).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(await deadLetters()).toEqual([]);
    expect(ops.deadLetters).toEqual([]);
    expect(pruner.nudges).toBe(0);
  });

  it('dead-letters a failed send once BullMQ has no attempt left', async () => {
    const { job, ops, pruner, deadLetters } = await run(
      { kind: 'retry', reason: 'JANDI failed: HTTP 503', sent: SENT },
      new FakeJob(EVENT, 7),
      { final: true },
    );
    expect(job.logs).toEqual([
      'attempt 8 → accounting: HTTP 503 in 15 ms, quota wait 0 ms → dead letter after 8 attempts',
    ]);
    expect(await deadLetters()).toEqual([{ reason: 'JANDI failed', value: 1 }]);
    expect(ops.deadLetters).toEqual([
      { destination: 'accounting', reason: 'JANDI failed: HTTP 503' },
    ]);
    expect(pruner.nudges).toBe(1);
  });

  it('dead-letters a malformed job without delivering it, noticed on the default topic', async () => {
    const malformed = new FakeJob({ ...EVENT, v: 2 } as unknown as PopbillEventJob);
    const { error, delivery, ops, deadLetters } = await run({ kind: 'delivered' }, malformed);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error?.message).toBe('malformed job: job-1 is not a PopbillEventJobV1');
    expect(delivery.calls).toEqual([]);
    expect(await deadLetters()).toEqual([{ reason: 'malformed job', value: 1 }]);
    expect(ops.deadLetters).toEqual([
      { destination: 'default', reason: 'malformed job: job-1 is not a PopbillEventJobV1' },
    ]);
  });

  it('lets a Redis error retry the job and tells the Redis watch', async () => {
    const full = new Error("OOM command not allowed when used memory > 'maxmemory'.");
    const { error, redisWatch, job } = await run(full, new FakeJob(EVENT), { delay: 5000 });
    expect(error).toBe(full);
    expect(redisWatch.writes).toEqual([full]);
    expect(job.logs).toEqual([]);
  });
});

describe('JandiDeliveryProcessor on shutdown', () => {
  beforeAll(() => Logger.overrideLogger(false));

  /** A stand-in for the BullMQ worker Nest gives the processor, closing after `closeMs`. */
  function withWorker(closeMs: number, shutdownGraceMs: number) {
    const parts = processorFor({ kind: 'delivered' }, shutdownGraceMs);
    const worker = Object.assign(new EventEmitter(), {
      close: () => new Promise<void>((resolve) => setTimeout(resolve, closeMs)),
    });
    Object.assign(parts.processor, { _worker: worker });
    return parts;
  }

  it('watches its BullMQ worker for Redis errors', () => {
    const { processor, redisWatch } = withWorker(0, 1000);
    processor.onApplicationBootstrap();
    expect(redisWatch.watched).toEqual(['worker']);
  });

  it('lets in-flight deliveries finish within the grace period', async () => {
    const { processor, shutdown } = withWorker(5, 200);
    await processor.beforeApplicationShutdown();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(shutdown.aborted).toBe(false);
  });

  it('interrupts in-flight deliveries once the grace period is over', async () => {
    const { processor, shutdown } = withWorker(200, 5);
    await processor.beforeApplicationShutdown();
    expect(shutdown.aborted).toBe(true);
  });
});
