import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { LogController, type FastifyRequest } from 'fastify';
import { logFormat } from '@app/contracts';
import { pino } from 'pino';
import secureJson from 'secure-json-parse';
import { Logger } from 'nestjs-pino';
import { AdminPlane } from './admin/admin-plane';
import { mountBullBoard } from './admin/bull-board';
import { configWarnings, IngestConfig } from './ingest.config';
import { IngestModule } from './ingest.module';
import { WEBHOOK_OPERATION } from './webhooks/popbill-webhook.openapi';
import { PopbillWebhookRoute, WEBHOOK_PATH } from './webhooks/popbill-webhook.route';

/** Secrets that must never reach a log line, whatever logs the request. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
];

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** How often the server looks for connections past their headers or request timeout. */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** A hop count means "trust the n nearest proxies"; Fastify's types take that as a function. */
function trustedProxies(setting: IngestConfig['trustProxy']) {
  if (typeof setting !== 'number') return setting;
  return (_address: string, hop: number) => hop < setting;
}

export async function createIngestApp(config: IngestConfig): Promise<NestFastifyApplication> {
  // Lines are written in batches of 4 KB, and at least every 200 ms, instead of one syscall
  // each; pino flushes what is left when the process exits.
  const destination = pino.destination({ sync: false, minLength: 4096, periodicFlush: 200 });
  const logger = pino(
    {
      level: config.logLevel,
      ...logFormat('ingest'),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: FastifyRequest) => ({
          method: req.method,
          url: req.url,
          ip: req.ip,
          mid: req.headers?.['pb-webhook-mid'],
        }),
      },
    },
    destination,
  );
  for (const warning of configWarnings(config)) logger.warn(warning);
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // Popbill sends small bodies at once: a client slower than this is answered 408 and closed.
    http: {
      headersTimeout: config.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, config.headersTimeoutMs),
    },
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    maxRequestsPerSocket: config.maxRequestsPerSocket,
    trustProxy: trustedProxies(config.trustProxy),
    // No Nest middleware is used (see IngestModule), so its engine is not run on each request.
    skipMiddie: true,
    // Accepted, duplicate and rejected webhooks are logged once each, with their ids, by our code.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    loggerInstance: logger,
  });
  const fastify = adapter.getInstance();
  const adminPlane = new AdminPlane(fastify);
  // Connections past the cap are closed as they arrive, before any byte is read.
  fastify.server.maxConnections = config.maxConnections;
  // Popbill sends JSON; a text/plain body is answered 415 instead of being parsed as a string.
  fastify.removeContentTypeParser(['text/plain', 'application/json']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const charset = /charset=([^;\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset && !/^utf-?8$/i.test(charset.replace(/"/g, ''))) {
      const error = new Error(`charset ${charset} is not supported: send UTF-8 JSON`);
      done(Object.assign(error, { statusCode: 415, code: 'RELAY_UNSUPPORTED_CHARSET' }), undefined);
      return;
    }
    try {
      // Keys that could reach Object.prototype are refused at parse time.
      done(
        null,
        secureJson.parse(body as string, undefined, {
          protoAction: 'error',
          constructorAction: 'error',
        }),
      );
    } catch (error) {
      const forbidden = /prototype|constructor/i.test((error as Error).message);
      done(
        Object.assign(
          new Error(
            forbidden
              ? 'the body contains a forbidden key (__proto__ or constructor.prototype)'
              : `the body is not valid JSON: ${(error as Error).message}`,
          ),
          { statusCode: 400, code: forbidden ? 'RELAY_FORBIDDEN_KEY' : 'RELAY_INVALID_JSON' },
        ),
        undefined,
      );
    }
  });

  const app = await NestFactory.create<NestFastifyApplication>(
    IngestModule.forRoot(config, logger),
    adapter,
    {
      bufferLogs: true,
      // Our own JSON parser (below) is registered instead of Nest's.
      bodyParser: false,
    },
  );
  app.useLogger(app.get(Logger));
  app.get(PopbillWebhookRoute).register(fastify);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Popbill → JANDI relay: ingest')
      .setDescription('Receives Popbill webhooks and stores each once in the relay queue.')
      .addBasicAuth()
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' })
      .build(),
  );
  document.paths[WEBHOOK_PATH] = { post: WEBHOOK_OPERATION };
  SwaggerModule.setup('docs', app, document);
  await mountBullBoard(app, config);
  adminPlanes.set(app, adminPlane);
  return app;
}

const adminPlanes = new WeakMap<NestFastifyApplication, AdminPlane>();

/** Opens the public port and the admin port; returns both base URLs. */
export async function listenIngest(
  app: NestFastifyApplication,
  config: Pick<IngestConfig, 'port' | 'host' | 'adminPort' | 'adminHost'>,
): Promise<{ url: string; adminUrl: string }> {
  await app.listen(config.port, config.host);
  const adminUrl = await adminPlanes.get(app)!.listen(config.adminPort, config.adminHost);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { url, adminUrl };
}
