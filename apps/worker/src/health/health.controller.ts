import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';
import { RedisWatch } from '@app/redis';
import type Redis from 'ioredis';
import { JandiDeliveryProcessor } from '../delivery/jandi-delivery.processor';
import { WORKER_REDIS } from '../redis/redis.module';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly processor: JandiDeliveryProcessor,
    private readonly redisWatch: RedisWatch,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready while Redis answers and the worker takes jobs (not once shutdown began). A full Redis
   * keeps it ready, since deliveries free memory, and is shown as `redis: "full"`.
   */
  @Get('ready')
  async ready(): Promise<{ status: 'ok'; redis: 'up' | 'full' }> {
    const redisOk = await Promise.race([
      this.redis.ping().then(
        (pong) => pong === 'PONG',
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(resolve, 1000, false)),
    ]);
    if (!redisOk) {
      throw new ServiceUnavailableException({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'redis unavailable',
        redis: 'down',
        clients: this.redisWatch.unreachable(),
      });
    }
    if (!this.processor.worker.isRunning() || this.processor.worker.closing) {
      throw new ServiceUnavailableException('worker not running');
    }
    return { status: 'ok', redis: this.redisWatch.full ? 'full' : 'up' };
  }
}
