import { Controller, Get, Header } from '@nestjs/common';
import { QueueStateCollector } from './queue-state.collector';
import { WorkerMetrics } from './worker.metrics';

@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: WorkerMetrics,
    private readonly collector: QueueStateCollector,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    await this.collector.refresh();
    return this.metrics.registry.metrics();
  }
}
