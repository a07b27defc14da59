import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';
import type Redis from 'ioredis';
import { JandiDeliveryProcessor } from '../delivery/jandi-delivery.processor';
import { WORKER_REDIS } from '../rate-limit/rate-limit.module';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly processor: JandiDeliveryProcessor,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready while Redis answers and the worker takes jobs (not once shutdown began). */
  @Get('ready')
  async ready(): Promise<{ status: 'ok' }> {
    const redisOk = await Promise.race([
      this.redis.ping().then(
        (pong) => pong === 'PONG',
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(resolve, 1000, false)),
    ]);
    if (!redisOk) throw new ServiceUnavailableException('redis unavailable');
    if (!this.processor.worker.isRunning() || this.processor.worker.closing) {
      throw new ServiceUnavailableException('worker not running');
    }
    return { status: 'ok' };
  }
}
