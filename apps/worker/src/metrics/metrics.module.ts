import { Global, Module } from '@nestjs/common';
import { DigestModule } from '../digest/digest.module';
import { MetricsController } from './metrics.controller';
import { QueueStateCollector } from './queue-state.collector';
import { WorkerMetrics } from './worker.metrics';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';

@Global()
@Module({
  imports: [DigestModule],
  controllers: [MetricsController],
  providers: [
    {
      provide: WorkerMetrics,
      inject: [WORKER_CONFIG],
      useFactory: (config: WorkerConfig) => new WorkerMetrics(Object.keys(config.destinations)),
    },
    QueueStateCollector,
  ],
  exports: [WorkerMetrics],
})
export class MetricsModule {}
