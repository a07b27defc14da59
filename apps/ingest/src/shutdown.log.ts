import { Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';

/** The last line of a run: which signal stopped the ingest and after how long. */
export class ShutdownLog implements OnApplicationShutdown {
  private readonly logger = new Logger('ingest');

  /** `root`: the pino logger whose buffered destination must be written out before the end. */
  constructor(private readonly root: PinoLogger) {}

  onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log(
      { outcome: 'stopped', signal: signal ?? null, uptimeSeconds: Math.round(process.uptime()) },
      'ingest stopped',
    );
    // Nest re-raises the signal next, which ends the process before a buffered line is written.
    return new Promise((resolve) => this.root.flush(() => resolve()));
  }
}
