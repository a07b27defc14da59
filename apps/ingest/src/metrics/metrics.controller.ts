import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { RedisWatch } from '@app/redis';
import type Redis from 'ioredis';
import { INGEST_REDIS } from '../ingest.config';
import { IngestMetrics } from './ingest.metrics';

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: IngestMetrics,
    @Inject(INGEST_REDIS) private readonly redis: Redis,
    private readonly redisWatch: RedisWatch,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    this.metrics.redis.up.set(this.redis.status === 'ready' ? 1 : 0);
    this.metrics.redis.full.set(this.redisWatch.full ? 1 : 0);
    return this.metrics.registry.metrics();
  }
}
