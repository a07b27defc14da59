import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { createRedisClient } from '@app/contracts';
import type Redis from 'ioredis';
import { WORKER_CONFIG, type WorkerConfig } from '../worker.config';
import { JandiQuotaLimiter } from './jandi-quota.limiter';

/** The worker's own ioredis client for the limiter, readiness and duplicate markers. */
export const WORKER_REDIS = Symbol('WORKER_REDIS');

@Global()
@Module({
  providers: [
    {
      provide: WORKER_REDIS,
      inject: [WORKER_CONFIG],
      // A Cluster client serves the same commands; the limiter's keys share one hash slot.
      // Auto-pipelining: concurrent jobs' commands share writes, which cost more than the commands.
      useFactory: (config: WorkerConfig) =>
        createRedisClient(config, {
          maxRetriesPerRequest: 2,
          enableAutoPipelining: true,
        }) as Redis,
    },
    {
      provide: JandiQuotaLimiter,
      inject: [WORKER_REDIS, WORKER_CONFIG],
      useFactory: (redis: Redis, config: WorkerConfig) =>
        new JandiQuotaLimiter(redis, {
          prefix: config.queuePrefix,
          limits: config.rateLimits,
          safetyMs: config.rateSafetyMs,
          inlineWaitMs: config.inlineWaitMs,
          sendMs: config.requestTimeoutMs,
          // JANDI may count a request it never answered after we gave up on it: allow one more timeout.
          lateMs: config.requestTimeoutMs,
        }),
    },
  ],
  exports: [WORKER_REDIS, JandiQuotaLimiter],
})
export class RateLimitModule implements OnApplicationShutdown {
  constructor(@Inject(WORKER_REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
