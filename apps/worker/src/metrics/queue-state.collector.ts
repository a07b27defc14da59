import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { RELAY_QUEUE, RedisWatch } from '@app/contracts';
import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { DigestPool } from '../digest/digest-pool';
import { JandiQuotaLimiter } from '../rate-limit/jandi-quota.limiter';
import { WORKER_REDIS } from '../rate-limit/rate-limit.module';
import { WORKER_CONFIG, type WorkerConfig } from '../worker.config';
import { WorkerMetrics } from './worker.metrics';

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;

/** Reads queue and quota state from Redis at scrape time, so gauges are never stale. */
@Injectable()
export class QueueStateCollector {
  private readonly logger = new Logger(QueueStateCollector.name);

  constructor(
    @InjectQueue(RELAY_QUEUE) private readonly queue: Queue,
    private readonly limiter: JandiQuotaLimiter,
    private readonly pool: DigestPool,
    private readonly metrics: WorkerMetrics,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly redisWatch: RedisWatch,
  ) {
    redisWatch.watch('queue', queue);
  }

  async refresh(): Promise<void> {
    this.metrics.redisUp.set(this.redis.status === 'ready' ? 1 : 0);
    this.metrics.redisFull.set(this.redisWatch.full ? 1 : 0);
    try {
      const counts = await this.queue.getJobCounts(...STATES);
      for (const state of STATES) this.metrics.jobs.set({ state }, counts[state] ?? 0);
      for (const [destination, url] of Object.entries(this.config.destinations)) {
        for (const { limit, remaining } of await this.limiter.headroom(url)) {
          this.metrics.quotaHeadroom.set(
            { destination, window: `${limit.count}/${limit.windowMs}ms` },
            remaining,
          );
        }
        const backlog = await this.pool.stats(url);
        this.metrics.pooledEvents.set({ destination }, backlog.size);
        this.metrics.backlogAge.set({ destination }, backlog.oldestAgeMs / 1000);
      }
    } catch (error) {
      this.logger.warn(`queue state unavailable: ${(error as Error).message}`);
    }
  }
}
