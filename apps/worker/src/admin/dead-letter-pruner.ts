import { InjectQueue } from '@nestjs/bullmq';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DEAD_LETTER_STATE, RELAY_QUEUE } from '@app/contracts';
import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { WorkerMetrics } from '../metrics/worker.metrics';
import { WORKER_REDIS } from '../redis/redis.module';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';

const DAY_MS = 86_400_000;
/** Dead letters looked at per Redis round trip. */
const BATCH = 500;
/** Bounds one run; whatever is left waits for the next. */
const MAX_BATCHES_PER_RUN = 20;
const INTERVAL_MS = 60_000;

export type PruneCause = 'age' | 'limit';

/**
 * Keeps the dead letters (failed jobs, never removed by BullMQ here) within
 * DEAD_LETTER_RETENTION_DAYS and DEAD_LETTER_MAX, oldest first, so they cannot fill a
 * `noeviction` Redis. Runs in every worker; ZREM decides which one removes a job, so each removal
 * is logged and counted once, and a job replayed meanwhile is left alone.
 */
@Injectable()
export class DeadLetterPruner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeadLetterPruner.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: Pick<WorkerConfig, 'deadLetters'>,
    @InjectQueue(RELAY_QUEUE) private readonly queue: Queue,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly metrics: WorkerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.nudge();
    this.timer = setInterval(() => this.nudge(), INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** A job was just dead-lettered (or a tick came): prune now, once at a time. */
  nudge(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.prune()
      .then(() => undefined)
      .catch((error: Error) =>
        this.logger.warn({ err: error.message }, 'could not prune the dead letters'),
      )
      .finally(() => {
        this.running = null;
        if (this.again && this.timer) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Removes what is over age or over the limit; returns how many, by cause. */
  async prune(now = Date.now()): Promise<Record<PruneCause, number>> {
    const redis = this.redis;
    const failed = this.queue.toKey(DEAD_LETTER_STATE);
    const cutoff = now - this.config.deadLetters.retentionDays * DAY_MS;
    const removed = { age: 0, limit: 0 };
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      // Scores are the times the jobs failed, so both lists start with the oldest.
      let ids = await redis.zrangebyscore(failed, '-inf', cutoff, 'LIMIT', 0, BATCH);
      let cause: PruneCause = 'age';
      if (ids.length === 0) {
        const excess = (await redis.zcard(failed)) - this.config.deadLetters.max;
        if (excess <= 0) break;
        ids = await redis.zrange(failed, 0, Math.min(excess, BATCH) - 1);
        cause = 'limit';
      }
      const mine: string[] = [];
      for (const id of ids) {
        // Only the worker whose ZREM took the job removes it; a replayed job is no longer there.
        if ((await redis.zrem(failed, id)) === 1) {
          await this.queue.remove(id);
          mine.push(id);
        }
      }
      if (mine.length === 0) continue;
      removed[cause] += mine.length;
      this.metrics.deadLettersRemoved.inc({ cause }, mine.length);
      this.logger.warn(
        {
          outcome: 'dead-letters-removed',
          cause,
          count: mine.length,
          oldest: mine[0],
          newest: mine.at(-1),
          retentionDays: this.config.deadLetters.retentionDays,
          max: this.config.deadLetters.max,
        },
        cause === 'age'
          ? `removed ${mine.length} dead letter(s) older than ${this.config.deadLetters.retentionDays} days`
          : `removed the ${mine.length} oldest dead letter(s) over DEAD_LETTER_MAX=${this.config.deadLetters.max}`,
      );
    }
    return removed;
  }
}
