import { redactRedisUrl } from '@app/contracts';
import { Logger } from '@nestjs/common';
import { createIngestApp, listenIngest } from './ingest.app';
import { ConfigError } from '@app/contracts';
import { loadIngestConfig } from './ingest.config';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadIngestConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`ingest: ${error.message}\n`);
    process.exit(1);
  }
  const app = await createIngestApp(config);
  const { adminUrl } = await listenIngest(app, config);
  new Logger('Ingest').log(
    {
      port: config.port,
      admin: adminUrl,
      redis: redactRedisUrl(config.redisUrl),
      queuePrefix: config.queuePrefix,
    },
    `ingest listening on ${config.host}:${config.port}, admin on ${adminUrl}`,
  );
}

void bootstrap();
