import { BullModule } from '@nestjs/bullmq';
import {
  DynamicModule,
  Global,
  Inject,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { createRedisClient, describeRedis, RedisWatch } from '@app/redis';
import Redis from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import { HealthModule } from './health/health.module';
import { INGEST_CONFIG, INGEST_REDIS, IngestConfig } from './ingest.config';
import { IngestMetrics } from './metrics/ingest.metrics';
import { MetricsModule } from './metrics/metrics.module';
import type { Logger as PinoLogger } from 'pino';
import { ShutdownLog } from './shutdown.log';
import { WebhookModule } from './webhooks/webhook.module';

/**
 * Fails fast while Redis is away (no offline queue: an unstored event must get a 503 at once,
 * never wait in memory) and keeps reconnecting, so service resumes by itself.
 */
function createRedis(config: IngestConfig): Redis {
  // A Cluster client serves the same commands; it is typed as Redis for the callers.
  return createRedisClient(config, {
    enableOfflineQueue: false,
    // Commands issued in the same tick share one socket write: the probe and the add of one
    // request, and those of concurrent requests.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
  }) as Redis;
}

const BOOT_WAIT_FOR_REDIS_MS = 5000;

@Global()
@Module({})
class IngestCoreModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(
    @Inject(INGEST_REDIS) private readonly redis: Redis,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
  ) {}

  static forRoot(config: IngestConfig): DynamicModule {
    return {
      module: IngestCoreModule,
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        {
          provide: RedisWatch,
          inject: [IngestMetrics],
          useFactory: (metrics: IngestMetrics) =>
            new RedisWatch(new Logger('Redis'), (client, kind) =>
              metrics.redis.errors.inc({ client, kind }),
            ),
        },
        {
          provide: INGEST_REDIS,
          inject: [RedisWatch],
          useFactory: (watch: RedisWatch) => {
            const redis = createRedis(config);
            watch.watch('ingest', redis);
            return redis;
          },
        },
      ],
      exports: [INGEST_CONFIG, INGEST_REDIS, RedisWatch],
    };
  }

  /** Gives Redis a moment before the port opens; without it, ingest starts anyway and answers 503. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.redis.status === 'ready') return;
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), BOOT_WAIT_FOR_REDIS_MS);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!ready) {
      this.logger.warn(
        { redis: describeRedis(this.config) },
        `Redis not reachable after ${BOOT_WAIT_FOR_REDIS_MS} ms: answering 503 until it is`,
      );
    }
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

@Module({})
export class IngestModule {
  /** `logger` is Fastify's root pino logger, so Nest's own lines share its level and redaction. */
  static forRoot(config: IngestConfig, logger: PinoLogger): DynamicModule {
    return {
      module: IngestModule,
      imports: [
        IngestCoreModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: { logger },
          useExisting: true,
          // No per-request middleware: its AsyncLocalStorage slows every promise on Node 20.
          // Request lines go through Fastify's request.log, which carries the request id.
          forRoutes: [],
        }),
        MetricsModule,
        BullModule.forRootAsync({
          inject: [INGEST_REDIS],
          useFactory: (redis: Redis) => ({ connection: redis, prefix: config.queuePrefix }),
        }),
        WebhookModule,
        HealthModule,
      ],
      providers: [{ provide: ShutdownLog, useValue: new ShutdownLog(logger) }],
    };
  }
}
