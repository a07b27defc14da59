import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { RELAY_QUEUE } from '@app/contracts';
import { LoggerModule } from 'nestjs-pino';
import { AdminModule } from './admin/admin.module';
import { DeliveryModule } from './delivery/delivery.module';
import { configureDeliveryWorker } from './delivery/jandi-delivery.processor';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { bullConnection, WORKER_CONFIG, type WorkerConfig } from './worker.config';

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

@Module({})
export class WorkerModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    configureDeliveryWorker(config);
    return {
      module: WorkerModule,
      imports: [
        WorkerConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            autoLogging: false,
            redact: ['req.headers.authorization'],
          },
        }),
        BullModule.forRoot({
          connection: bullConnection(config.redis),
          prefix: config.queuePrefix,
        }),
        RelayQueueModule,
        RateLimitModule,
        MetricsModule,
        DeliveryModule,
        HealthModule,
        ...(config.adminToken ? [AdminModule] : []),
      ],
    };
  }
}
