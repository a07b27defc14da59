import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { logFormat, RELAY_QUEUE } from '@app/contracts';
import type { ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import { AdminModule } from './admin/admin.module';
import { DeliveryModule } from './delivery/delivery.module';
import { configureDeliveryWorker } from './delivery/jandi-delivery.processor';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RedisModule } from './redis/redis.module';
import { ShutdownLog } from './shutdown.log';
import { bullConnection, WORKER_CONFIG, type WorkerConfig } from './config/worker.config';

@Global()
@Module({})
class WorkerConfigModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    return {
      module: WorkerConfigModule,
      providers: [{ provide: WORKER_CONFIG, useValue: config }],
      exports: [WORKER_CONFIG],
    };
  }
}

/** The relay queue, registered once for the worker, the metrics and the admin endpoints. */
@Global()
@Module({
  imports: [BullModule.registerQueue({ name: RELAY_QUEUE })],
  exports: [BullModule],
})
class RelayQueueModule {}

const BULL_CONNECTION = Symbol('BULL_CONNECTION');

@Module({})
export class WorkerModule implements OnApplicationShutdown {
  constructor(@Inject(BULL_CONNECTION) private readonly connection: ConnectionOptions) {}

  static forRoot(config: WorkerConfig): DynamicModule {
    const connection = bullConnection(config);
    configureDeliveryWorker(config, connection);
    return {
      module: WorkerModule,
      providers: [{ provide: BULL_CONNECTION, useValue: connection }, ShutdownLog],
      imports: [
        WorkerConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            ...logFormat('worker'),
            autoLogging: false,
            redact: ['req.headers.authorization'],
          },
          // No per-request middleware: once a health probe runs it, its AsyncLocalStorage slows
          // every promise of every delivery on Node 20.
          forRoutes: [],
        }),
        BullModule.forRoot({
          connection,
          prefix: config.queuePrefix,
        }),
        RelayQueueModule,
        RedisModule,
        RateLimitModule,
        MetricsModule,
        DeliveryModule,
        HealthModule,
        ...(config.adminToken ? [AdminModule] : []),
      ],
    };
  }

  /** A shared Cluster client is ours to close; BullMQ closes the connections it opened. */
  onApplicationShutdown(): void {
    if (this.connection instanceof Cluster) this.connection.disconnect();
  }
}
