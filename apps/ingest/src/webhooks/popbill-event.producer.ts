import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DEAD_LETTER_STATE,
  eventJobName,
  PopbillEventJob,
  RELAY_JOB_OPTIONS,
  RELAY_QUEUE,
} from '@app/contracts';
import { RedisWatch } from '@app/redis';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { INGEST_CONFIG, INGEST_REDIS, IngestConfig } from '../ingest.config';
import { IngestMetrics, typeLabel } from '../metrics/ingest.metrics';

export type EnqueueOutcome = 'accepted' | 'duplicate' | 'revived';

/** How often ingest reads Redis' memory use while webhooks arrive. */
const MEMORY_CHECK_INTERVAL_MS = 1000;

/** How long a failed store keeps ingest unready when no store has succeeded since. */
export const UNREADY_AFTER_STORE_FAILURE_MS = 30_000;

export class QueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(
      `the event could not be stored in Redis: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'QueueUnavailableError';
  }
}

/**
 * Stores each webhook once. The job id is the event id (BullMQ refuses a second job with it) and
 * BullMQ's deduplication key keeps refusing it for the dedupe window after the job itself is
 * removed; both are written by the one atomic add.
 */
@Injectable()
export class PopbillEventProducer {
  private readonly logger = new Logger(PopbillEventProducer.name);
  /** When the last store failed; null once one has succeeded since. */
  private lastStoreFailureAt: number | null = null;
  private memoryCheckedAt = 0;
  /** Set when Redis' memory use passed REDIS_MEMORY_LIMIT_PERCENT of maxmemory. */
  private memoryOverLimit: string | null = null;

  constructor(
    @InjectQueue(RELAY_QUEUE) private readonly queue: Queue<PopbillEventJob>,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly metrics: IngestMetrics,
    @Inject(INGEST_REDIS) private readonly redis: Redis,
    private readonly redisWatch: RedisWatch,
  ) {
    redisWatch.watch('queue', queue);
  }

  async enqueue(job: PopbillEventJob): Promise<EnqueueOutcome> {
    this.refreshMemoryUse();
    if (this.memoryOverLimit) {
      const error = new Error(this.memoryOverLimit);
      this.lastStoreFailureAt = Date.now();
      this.redisWatch.noteWrite(error);
      throw new QueueUnavailableError(error);
    }
    const stopTimer = this.metrics.enqueueDuration.startTimer();
    const id = job.eventId;
    // Sent ahead of the add in the same write (auto-pipelining), so it sees what was there before.
    const probe = this.redis.exists(this.queue.toKey(id), this.queue.toKey(`de:${id}`));
    const add = this.queue.add(eventJobName(job), job, {
      ...RELAY_JOB_OPTIONS,
      jobId: id,
      deduplication: { id, ttl: this.config.dedupeWindowMs },
    });
    let seen: number;
    try {
      const [existing] = await withTimeout(
        Promise.all([probe, add]),
        this.config.enqueueTimeoutMs,
        `no answer from Redis within ${this.config.enqueueTimeoutMs} ms`,
      );
      seen = existing;
      await this.confirmReplicated();
    } catch (error) {
      probe.catch(() => undefined);
      add.catch(() => undefined);
      this.lastStoreFailureAt = Date.now();
      this.redisWatch.noteWrite(error as Error);
      throw new QueueUnavailableError(error);
    } finally {
      stopTimer();
    }
    this.lastStoreFailureAt = null;
    this.redisWatch.noteWrite(null);
    const type = typeLabel(job.webhookType);
    if (seen === 0) {
      this.metrics.accepted.inc({ type });
      return 'accepted';
    }
    if (await this.revive(id)) {
      this.metrics.revived.inc({ type });
      return 'revived';
    }
    this.metrics.duplicate.inc({ type });
    return 'duplicate';
  }

  /**
   * A Redis at maxmemory (noeviction) refuses BullMQ's own scripts, so workers could no longer
   * fetch or finish jobs: ingest stops storing below it. Read in the background, off the
   * request's path; the "OOM" prefix marks the refusal as Redis being full.
   */
  private refreshMemoryUse(now = Date.now()): void {
    if (this.config.memoryLimitPercent >= 100) return;
    if (now - this.memoryCheckedAt < MEMORY_CHECK_INTERVAL_MS) return;
    this.memoryCheckedAt = now;
    this.redis.info('memory').then(
      (info) => {
        const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
        const max = Number(/^maxmemory:(\d+)/m.exec(info)?.[1] ?? 0);
        const percent = max > 0 ? (used * 100) / max : 0;
        this.memoryOverLimit =
          percent >= this.config.memoryLimitPercent
            ? `OOM Redis uses ${Math.round(percent)} % of maxmemory, over REDIS_MEMORY_LIMIT_PERCENT (${this.config.memoryLimitPercent} %): the rest is kept for the workers`
            : null;
      },
      () => undefined,
    );
  }

  /**
   * With REDIS_MIN_REPLICAS_ACK, an event is acknowledged only once that many replicas have it:
   * a failover right after the 200 then cannot lose it (replication is asynchronous otherwise).
   * WAIT covers every earlier write of this connection, the add included.
   */
  private async confirmReplicated(): Promise<void> {
    const wanted = this.config.minReplicasAck;
    if (wanted === 0) return;
    const confirmed = await withTimeout(
      this.redis.wait(wanted, this.config.enqueueTimeoutMs),
      this.config.enqueueTimeoutMs + 1000,
      'no answer to WAIT',
    );
    if (confirmed < wanted) {
      this.metrics.replicasShort.inc();
      throw new Error(
        `${confirmed} of ${wanted} replicas confirmed the write within ${this.config.enqueueTimeoutMs} ms`,
      );
    }
  }

  /** Milliseconds since the last store failed, if none has succeeded since and it is recent. */
  recentStoreFailureAgeMs(now = Date.now()): number | null {
    const at = this.lastStoreFailureAt;
    if (at === null || now - at > UNREADY_AFTER_STORE_FAILURE_MS) return null;
    return now - at;
  }

  /** A resend of a dead-lettered event puts that job back to work with fresh attempts. */
  private async revive(id: string): Promise<boolean> {
    try {
      const deadLetter = await withTimeout(
        this.redis.zscore(this.queue.toKey(DEAD_LETTER_STATE), id),
        this.config.enqueueTimeoutMs,
        'dead-letter check timed out',
      );
      if (deadLetter === null) return false;
      const existing = await withTimeout(
        this.queue.getJob(id),
        this.config.enqueueTimeoutMs,
        'getJob timed out',
      );
      if (!existing) return false;
      await withTimeout(
        existing.retry(DEAD_LETTER_STATE, { resetAttemptsMade: true, resetAttemptsStarted: true }),
        this.config.enqueueTimeoutMs,
        'retry timed out',
      );
      this.logger.warn(
        { eventId: id, jobId: id },
        'dead-lettered event re-sent by Popbill: job put back to work',
      );
      return true;
    } catch (error) {
      // Another resend may have revived it first; the job is stored either way.
      this.logger.warn(
        { eventId: id, err: (error as Error).message },
        'could not revive dead-lettered job',
      );
      return false;
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
