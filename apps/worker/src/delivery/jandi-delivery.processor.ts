import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import {
  BeforeApplicationShutdown,
  Inject,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { isPopbillEventJob, RELAY_QUEUE, type PopbillEventJob } from '@app/contracts';
import { RedisWatch } from '@app/redis';
import {
  DelayedError,
  UnrecoverableError,
  type ConnectionOptions,
  type Job,
  type WorkerOptions,
} from 'bullmq';
import { WorkerMetrics } from '../metrics/worker.metrics';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';
import { attemptLine, type SendReport } from './attempt-log';
import { DeadLetterPruner } from '../admin/dead-letter-pruner';
import { JandiDeliveryService } from './jandi-delivery.service';
import { OpsNotices } from '../ops/ops-notices';
import { DEFAULT_DESTINATION } from '../config/routes-file';
import { routeEvent } from './routing';
import { relayBackoffStrategy } from '../retry/relay-backoff';
import { ShutdownSignal } from '../shutdown/shutdown.signal';

/** A retryable failure; its send is logged once BullMQ has decided when the retry runs. */
class AttemptFailed extends Error {
  constructor(
    reason: string,
    readonly attempt: number,
    readonly sent: SendReport,
  ) {
    super(reason);
  }
}

/** Worker options depend on validated config, known only at boot; see configureDeliveryWorker. */
@Processor(RELAY_QUEUE)
export class JandiDeliveryProcessor
  extends WorkerHost
  implements BeforeApplicationShutdown, OnApplicationBootstrap
{
  private readonly logger = new Logger(JandiDeliveryProcessor.name);
  /**
   * Jobs this worker holds the lock of: from the start of processing until BullMQ has moved
   * them on in Redis. Exiting with some here abandons them; their lock expires and another
   * worker takes them back as stalled.
   */
  private readonly held = new Set<string>();

  constructor(
    @Inject(JandiDeliveryService) private readonly delivery: Pick<JandiDeliveryService, 'deliver'>,
    private readonly metrics: WorkerMetrics,
    @Inject(ShutdownSignal) private readonly shutdown: Pick<ShutdownSignal, 'abort'>,
    @Inject(RedisWatch) private readonly redisWatch: Pick<RedisWatch, 'watch' | 'noteWrite'>,
    @Inject(DeadLetterPruner) private readonly pruner: Pick<DeadLetterPruner, 'nudge'>,
    @Inject(WORKER_CONFIG)
    private readonly config: Pick<WorkerConfig, 'routes' | 'shutdownGraceMs'>,
    @Inject(OpsNotices) private readonly opsNotices: Pick<OpsNotices, 'deadLettered'>,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.redisWatch.watch('worker', this.worker);
  }

  /** Ids of the jobs an exit now would abandon. */
  heldJobs(): string[] {
    return [...this.held];
  }

  async process(job: Job<PopbillEventJob>, token?: string): Promise<void> {
    if (job.id) this.held.add(job.id);
    // Names describe the event (and were one fixed name before): only the data is the contract.
    if (!isPopbillEventJob(job.data)) {
      throw new UnrecoverableError(`malformed job: ${job.id} is not a PopbillEventJobV1`);
    }
    const attempt = job.attemptsMade + 1;
    let outcome;
    try {
      outcome = await this.delivery.deliver(job.data, {
        jobId: job.id ?? job.data.eventId,
        attempt,
        // BullMQ's own key layout (Job.log): the delivery writes its line with its marks.
        jobKeys: job.id
          ? {
              job: `${job.queueQualifiedName}:${job.id}`,
              log: `${job.queueQualifiedName}:${job.id}:logs`,
            }
          : undefined,
      });
      this.redisWatch.noteWrite(null);
    } catch (error) {
      this.redisWatch.noteWrite(error as Error);
      throw error;
    }
    switch (outcome.kind) {
      case 'delivered':
        if (outcome.sent && !outcome.logged)
          await this.jobLog(job, attemptLine(attempt, outcome.sent, 'delivered'));
        return;
      case 'wait':
        if (outcome.sent)
          await this.jobLog(job, attemptLine(attempt, outcome.sent, outcome.decision ?? 'wait'));
        // Waiting for quota is not an attempt: moveToDelayed + DelayedError skips the count.
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        this.released(job);
        throw new DelayedError();
      case 'rejected':
        await this.jobLog(job, attemptLine(attempt, outcome.sent, 'dead letter'));
        throw new UnrecoverableError(outcome.reason);
      case 'retry':
        throw new AttemptFailed(outcome.reason, attempt, outcome.sent);
    }
  }

  @OnWorkerEvent('completed')
  released(job: Job<PopbillEventJob>): void {
    if (job.id) this.held.delete(job.id);
  }

  /** The job's own log, shown in Bull Board; losing a line never fails a delivery. */
  private async jobLog(job: Job, line: string): Promise<void> {
    await job
      .log(line)
      .catch((error: Error) =>
        this.logger.warn({ jobId: job.id, err: error.message }, 'could not write the job log'),
      );
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<PopbillEventJob> | undefined, error: Error): void {
    if (job) this.released(job);
    if (job && error instanceof AttemptFailed) {
      // BullMQ has just set job.delay to the backoff it chose.
      const decision = job.finishedOn
        ? `dead letter after ${job.attemptsMade} attempts`
        : `retry at ${new Date(Date.now() + job.delay).toISOString()}`;
      void this.jobLog(job, attemptLine(error.attempt, error.sent, decision));
    }
    if (!job?.finishedOn) return;
    const reason = error.message.replace(/:.*$/, '') || 'unknown';
    this.metrics.deadLetters.inc({ reason });
    this.logger.error(
      {
        eventId: job.data?.eventId,
        jobId: job.id,
        attempt: job.attemptsMade,
        outcome: 'dead-letter',
        reason: error.message,
      },
      'job moved to the dead letters',
    );
    const destination = isPopbillEventJob(job.data)
      ? routeEvent(job.data, this.config.routes)
      : DEFAULT_DESTINATION;
    this.opsNotices.deadLettered(destination, error.message);
    this.pruner.nudge();
  }

  async beforeApplicationShutdown(): Promise<void> {
    const closing = this.worker.close();
    const grace = setTimeout(() => {
      this.logger.warn('shutdown grace period over; interrupting in-flight deliveries');
      this.shutdown.abort();
    }, this.config.shutdownGraceMs);
    await closing;
    clearTimeout(grace);
  }
}

/** Applies the config-dependent BullMQ worker options before Nest creates the worker. */
export function configureDeliveryWorker(config: WorkerConfig, connection: ConnectionOptions): void {
  const options: WorkerOptions = {
    connection,
    concurrency: config.concurrency,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
    settings: {
      backoffStrategy: relayBackoffStrategy({
        ceilingMs: config.backoffCeilingMs,
        jitter: config.backoffJitter,
      }),
    },
  };
  Processor(RELAY_QUEUE, options)(JandiDeliveryProcessor);
}
