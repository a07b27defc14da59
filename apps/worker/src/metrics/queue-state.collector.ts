import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { RELAY_QUEUE } from '@app/contracts';
import { RedisWatch } from '@app/redis';
import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { DigestPool } from '../digest/digest-pool';
import { JandiQuotaLimiter } from '../rate-limit/jandi-quota.limiter';
import { WORKER_REDIS } from '../redis/redis.module';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';
import { WorkerMetrics } from './worker.metrics';

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;

/** A reporter that stops scraping (died, scaled down) hands over after this long. */
export const REPORTER_TTL_MS = 60_000;

/** Takes or keeps the reporter key: 1 when this worker holds it. */
const CLAIM_REPORTER = `
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not owner then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

const infoField = (info: string, name: string) =>
  Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);

/**
 * Reads queue, quota and Redis state at scrape time, so gauges are never stale. Only the worker
 * holding the reporter key exports these queue-wide gauges; the others leave them out.
 */
@Injectable()
export class QueueStateCollector {
  private readonly logger = new Logger(QueueStateCollector.name);
  private readonly id = randomUUID();

  constructor(
    @InjectQueue(RELAY_QUEUE) private readonly queue: Queue,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly limiter: JandiQuotaLimiter,
    private readonly pool: DigestPool,
    private readonly metrics: WorkerMetrics,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly redisWatch: RedisWatch,
  ) {
    redisWatch.watch('queue', queue);
    metrics.latencyTarget.set(config.digest.latencyTargetMs / 1000);
  }

  async refresh(): Promise<void> {
    this.metrics.redis.up.set(this.redis.status === 'ready' ? 1 : 0);
    this.metrics.redis.full.set(this.redisWatch.full ? 1 : 0);
    try {
      const reporting =
        (await this.redis.eval(
          CLAIM_REPORTER,
          1,
          `${this.config.queuePrefix}:metrics-reporter`,
          this.id,
          REPORTER_TTL_MS,
        )) === 1;
      this.metrics.reporter.set(reporting ? 1 : 0);
      if (!reporting) {
        for (const gauge of this.metrics.queueWide) gauge.reset();
        return;
      }
      const counts = await this.queue.getJobCounts(...STATES);
      for (const state of STATES) this.metrics.jobs.set({ state }, counts[state] ?? 0);
      let oldestMs = await this.oldestQueuedAgeMs();
      // Asked all at once: with a destination per company, one by one would take seconds.
      await Promise.all(
        Object.entries(this.config.destinations).map(async ([destination, url]) => {
          const [headroom, backlog] = await Promise.all([
            this.limiter.headroom(url),
            this.pool.stats(url),
          ]);
          for (const { limit, remaining } of headroom) {
            this.metrics.quotaHeadroom.set(
              { destination, window: `${limit.count}/${limit.windowMs}ms` },
              remaining,
            );
          }
          this.metrics.pooledEvents.set({ destination }, backlog.size);
          this.metrics.backlogAge.set({ destination }, backlog.oldestAgeMs / 1000);
          oldestMs = Math.max(oldestMs, backlog.oldestAgeMs);
        }),
      );
      this.metrics.oldestWaitingAge.set(oldestMs / 1000);
      const memory = await this.redis.info('memory');
      this.metrics.redisMemoryUsed.set(infoField(memory, 'used_memory'));
      this.metrics.redisMemoryMax.set(infoField(memory, 'maxmemory'));
    } catch (error) {
      this.logger.warn(`queue state unavailable: ${(error as Error).message}`);
    }
  }

  /** Oldest of: the head of the wait list, the next prioritized job and the next delayed one. */
  private async oldestQueuedAgeMs(): Promise<number> {
    const keys = this.queue.keys;
    const ids = [
      await this.redis.lindex(keys.wait, -1),
      ...(await this.redis.zrange(keys.prioritized, 0, 0)),
      ...(await this.redis.zrange(keys.delayed, 0, 0)),
    ].filter((id): id is string => Boolean(id));
    let oldest = 0;
    for (const id of ids) {
      const created = Number(await this.redis.hget(this.queue.toKey(id), 'timestamp'));
      if (created > 0) oldest = Math.max(oldest, Date.now() - created);
    }
    return oldest;
  }
}
