import { Global, Module } from '@nestjs/common';
import { DigestModule } from '../digest/digest.module';
import { MetricsController } from './metrics.controller';
import { QueueStateCollector } from './queue-state.collector';
import { WorkerMetrics } from './worker.metrics';

@Global()
@Module({
  imports: [DigestModule],
  controllers: [MetricsController],
  providers: [{ provide: WorkerMetrics, useValue: new WorkerMetrics() }, QueueStateCollector],
  exports: [WorkerMetrics],
})
export class MetricsModule {}
