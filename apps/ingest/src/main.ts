import { Logger } from '@nestjs/common';
import { redactConfig } from '@app/contracts';
import { version } from '../../../package.json';
import { createIngestApp } from './ingest.app';
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
  await app.listen(config.port, config.host);
  new Logger('ingest').log(
    { outcome: 'started', version, config: redactConfig(config) },
    `ingest ${version} listening on ${config.host}:${config.port}`,
  );
}

void bootstrap();
