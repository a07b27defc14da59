import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { redactConfig } from '@app/contracts';
import { ConfigError, stopOnSignals } from '@app/runtime';
import { version } from '../../../package.json';
import { JandiDeliveryProcessor } from './delivery/jandi-delivery.processor';
import { loadWorkerConfig } from './config/worker.config';
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
  // Nest's close(signal) hands the signal to shutdown hooks; its interface omits the argument.
  const closeWith = app.close.bind(app) as (signal: string) => Promise<void>;
  // Armed before listening: a SIGTERM while Redis is still awaited is bounded too.
  stopOnSignals({
    graceMs: config.shutdownGraceMs,
    close: (signal) => closeWith(signal),
    abandoned: () => app.get(JandiDeliveryProcessor).heldJobs(),
    logger: new NestLogger('Shutdown'),
  });
  await app.listen(config.adminPort, config.adminHost);
  new NestLogger('worker').log(
    { outcome: 'started', version, config: redactConfig(config) },
    `worker ${version} started, admin on ${config.adminHost}:${config.adminPort}`,
  );
}

void bootstrap();
