import { Logger } from '@nestjs/common';
import { redactConfig } from '@app/contracts';
import { ConfigError, stopOnSignals } from '@app/runtime';
import { version } from '../../../package.json';
import { createIngestApp, listenIngest } from './ingest.app';
import { loadIngestConfig } from './ingest.config';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadIngestConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message.replace(/^/gm, 'ingest: ')}\n`);
    process.exit(1);
  }
  const app = await createIngestApp(config);
  const server = app.getHttpServer();
  // Nest's close(signal) hands the signal to shutdown hooks; its interface omits the argument.
  const closeWith = app.close.bind(app) as (signal: string) => Promise<void>;
  stopOnSignals({
    graceMs: config.shutdownGraceMs,
    close: (signal) => closeWith(signal),
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
  new Logger('ingest').log(
    { outcome: 'started', version, admin: adminUrl, config: redactConfig(config) },
    `ingest ${version} listening on ${config.host}:${config.port}, admin on ${adminUrl}`,
  );
}

void bootstrap();
