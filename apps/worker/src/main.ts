import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { ConfigError, redactConfig } from '@app/contracts';
import { version } from '../../../package.json';
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
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.listen(config.metricsPort, config.metricsHost);
  new NestLogger('worker').log(
    { outcome: 'started', version, config: redactConfig(config) },
    `worker ${version} started`,
  );
}

void bootstrap();
