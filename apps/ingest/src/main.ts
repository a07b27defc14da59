import { ConfigError, describeRedis, stopOnSignals } from '@app/contracts';
import { Logger } from '@nestjs/common';
import { createIngestApp, listenIngest } from './ingest.app';
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
  const server = app.getHttpServer();
  stopOnSignals({
    graceMs: config.shutdownGraceMs,
    close: () => app.close(),
    // Idle connections are closed first, so the ones left hold unanswered webhooks.
    abandoned: () =>
      new Promise<string[]>((resolve) =>
        server.getConnections((_error, count) =>
          resolve(count > 0 ? [`${count} connection(s) with a webhook not yet answered`] : []),
        ),
      ),
    logger: new Logger('Shutdown'),
  });
  const { adminUrl } = await listenIngest(app, config);
  new Logger('Ingest').log(
    {
      port: config.port,
      admin: adminUrl,
      redis: describeRedis(config),
      queuePrefix: config.queuePrefix,
    },
    `ingest listening on ${config.host}:${config.port}, admin on ${adminUrl}`,
  );
}

void bootstrap();
