import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { ConfigError } from '@app/contracts';
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
  await app.listen(config.adminPort, config.adminHost);
  app.get(Logger).log(
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
