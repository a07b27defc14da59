import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RedisWatch } from '@app/redis';
import type Redis from 'ioredis';
import { INGEST_REDIS } from '../ingest.config';
import {
  PopbillEventProducer,
  UNREADY_AFTER_STORE_FAILURE_MS,
} from '../webhooks/popbill-event.producer';

const READY_TIMEOUT_MS = 1000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(INGEST_REDIS) private readonly redis: Redis,
    private readonly producer: PopbillEventProducer,
    private readonly redisWatch: RedisWatch,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: `Redis answers and the last webhook was stored (or its failure is older than ${UNREADY_AFTER_STORE_FAILURE_MS / 1000} s)`,
  })
  async ready() {
    await this.redisAnswers();
    // PING alone misses a Redis that answers but refuses the queue's writes.
    const failedAgoMs = this.producer.recentStoreFailureAgeMs();
    if (failedAgoMs !== null) {
      // The Redis error itself is in the log line of the refused webhook.
      throw new ServiceUnavailableException({
        statusCode: 503,
        error: 'Service Unavailable',
        message: `the last webhook could not be stored (${Math.round(failedAgoMs / 1000)} s ago)`,
        redis: this.redisWatch.full ? 'full' : 'refusing writes',
      });
    }
    return { status: 'ok', redis: 'up' };
  }

  private async redisAnswers(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no PONG within ${READY_TIMEOUT_MS} ms`)),
            READY_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      throw new ServiceUnavailableException({
        statusCode: 503,
        error: 'Service Unavailable',
        message: `Redis is not answering: ${(error as Error).message}`,
        redis: 'down',
        clients: this.redisWatch.unreachable(),
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
