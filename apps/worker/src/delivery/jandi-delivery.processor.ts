import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import {
  BeforeApplicationShutdown,
  Inject,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  DELIVER_EVENT_JOB,
  isPopbillEventJob,
  RedisWatch,
  RELAY_QUEUE,
  type PopbillEventJob,
} from '@app/contracts';
import {
  DelayedError,
  UnrecoverableError,
  type ConnectionOptions,
  type Job,
  type WorkerOptions,
} from 'bullmq';
import { WorkerMetrics } from '../metrics/worker.metrics';
import { WORKER_CONFIG, type WorkerConfig } from '../worker.config';
import { JandiDeliveryService } from './jandi-delivery.service';
import { OpsNotices } from './ops-notices';
import { DEFAULT_DESTINATION, routeEvent } from './routing';
import { relayBackoffStrategy } from './relay-backoff';
import { ShutdownSignal } from './shutdown.signal';

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
    private readonly delivery: JandiDeliveryService,
    private readonly metrics: WorkerMetrics,
    private readonly shutdown: ShutdownSignal,
    private readonly redisWatch: RedisWatch,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly opsNotices: OpsNotices,
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
    if (job.name !== DELIVER_EVENT_JOB || !isPopbillEventJob(job.data)) {
      throw new UnrecoverableError(`malformed job: ${job.name} is not a PopbillEventJobV1`);
    }
    let outcome;
    try {
      outcome = await this.delivery.deliver(job.data, {
        jobId: job.id ?? job.data.eventId,
        attempt: job.attemptsMade + 1,
      });
      this.redisWatch.noteWrite(null);
    } catch (error) {
      this.redisWatch.noteWrite(error as Error);
      throw error;
    }
    switch (outcome.kind) {
      case 'delivered':
        return;
      case 'wait':
        // Waiting for quota is not an attempt: moveToDelayed + DelayedError skips the count.
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        this.released(job);
        throw new DelayedError();
      case 'rejected':
        throw new UnrecoverableError(outcome.reason);
      case 'retry':
        throw new Error(outcome.reason);
    }
  }

  @OnWorkerEvent('completed')
  released(job: Job<PopbillEventJob>): void {
    if (job.id) this.held.delete(job.id);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<PopbillEventJob> | undefined, error: Error): void {
    if (job) this.released(job);
    if (!job?.finishedOn) return;
    const reason = error.message.replace(/:.*$/, '') || 'unknown';
    this.metrics.deadLetters.inc({ reason });
    this.logger.warn(
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
