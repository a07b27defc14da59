import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { createRedisClient, RedisWatch } from '@app/redis';
import type Redis from 'ioredis';
import { WorkerMetrics } from '../metrics/worker.metrics';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';

/** The worker's own ioredis client for the limiter, the digest pool, readiness and notices. */
export const WORKER_REDIS = Symbol('WORKER_REDIS');

@Global()
@Module({
  providers: [
    {
      provide: RedisWatch,
      inject: [WorkerMetrics],
      useFactory: (metrics: WorkerMetrics) =>
        new RedisWatch(new Logger('Redis'), (client, kind) =>
          metrics.redis.errors.inc({ client, kind }),
        ),
    },
    {
      provide: WORKER_REDIS,
      inject: [WORKER_CONFIG, RedisWatch],
      // A Cluster client serves the same commands; the limiter's keys share one hash slot.
      // Auto-pipelining: concurrent jobs' commands share writes, which cost more than the commands.
      useFactory: (config: WorkerConfig, watch: RedisWatch) => {
        const redis = createRedisClient(config, {
          maxRetriesPerRequest: 2,
          enableAutoPipelining: true,
        }) as Redis;
        watch.watch('limiter', redis);
        return redis;
      },
    },
  ],
  exports: [WORKER_REDIS, RedisWatch],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(WORKER_REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
