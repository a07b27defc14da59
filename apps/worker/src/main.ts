import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { ConfigError, stopOnSignals } from '@app/contracts';
import { JandiDeliveryProcessor } from './delivery/jandi-delivery.processor';
import { loadWorkerConfig } from './worker.config';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    WorkerModule.forRoot(config),
    new FastifyAdapter(),
    { bufferLogs: true },
  );
  const logger = app.get(Logger);
  app.useLogger(logger);
  // Armed before listening: a SIGTERM while Redis is still awaited is bounded too.
  stopOnSignals({
    graceMs: config.shutdownGraceMs,
    close: () => app.close(),
    abandoned: () => app.get(JandiDeliveryProcessor).heldJobs(),
    logger: new NestLogger('Shutdown'),
  });
  await app.listen(config.adminPort, config.adminHost);
  logger.log(
    {
      destinations: Object.keys(config.destinations),
      rateLimits: config.rateLimits,
      concurrency: config.concurrency,
      adminHost: config.adminHost,
      adminPort: config.adminPort,
    },
    'worker started',
  );
}

void bootstrap();
