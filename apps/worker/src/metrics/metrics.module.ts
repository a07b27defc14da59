import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { QueueStateCollector } from './queue-state.collector';
import { WorkerMetrics } from './worker.metrics';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [{ provide: WorkerMetrics, useValue: new WorkerMetrics() }, QueueStateCollector],
  exports: [WorkerMetrics],
})
export class MetricsModule {}
