import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

/** The last line of a run: which signal stopped the worker and after how long. */
@Injectable()
export class ShutdownLog implements OnApplicationShutdown {
  private readonly logger = new Logger('worker');

  onApplicationShutdown(signal?: string): void {
    this.logger.log(
      { outcome: 'stopped', signal: signal ?? null, uptimeSeconds: Math.round(process.uptime()) },
      'worker stopped',
    );
  }
}
