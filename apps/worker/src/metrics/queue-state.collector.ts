import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { RELAY_QUEUE } from '@app/contracts';
import type { Queue } from 'bullmq';
import { DigestPool } from '../digest/digest-pool';
import { JandiQuotaLimiter } from '../rate-limit/jandi-quota.limiter';
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
  ) {}

  async refresh(): Promise<void> {
    try {
      const counts = await this.queue.getJobCounts(...STATES);
      for (const state of STATES) this.metrics.jobs.set({ state }, counts[state] ?? 0);
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
        }),
      );
    } catch (error) {
      this.logger.warn(`queue state unavailable: ${(error as Error).message}`);
    }
  }
}
