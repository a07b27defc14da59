import { Global, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';
import { WORKER_REDIS } from '../redis/redis.module';
import { JandiQuotaLimiter } from './jandi-quota.limiter';

@Global()
@Module({
  providers: [
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
  exports: [JandiQuotaLimiter],
})
export class RateLimitModule {}
