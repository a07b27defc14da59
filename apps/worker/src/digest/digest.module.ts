import { Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { WORKER_REDIS } from '../redis/redis.module';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';
import { DigestPool } from './digest-pool';

/** The per-destination digest pools in Redis, shared by delivery and metrics. */
@Module({
  providers: [
    {
      provide: DigestPool,
      inject: [WORKER_REDIS, WORKER_CONFIG],
      useFactory: (redis: Redis, config: WorkerConfig) => new DigestPool(redis, config.queuePrefix),
    },
  ],
  exports: [DigestPool],
})
export class DigestModule {}
