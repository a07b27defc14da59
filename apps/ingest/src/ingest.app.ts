import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { LogController, type FastifyError, type FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { Logger } from 'nestjs-pino';
import { mountBullBoard } from './admin/bull-board';
import { IngestConfig } from './ingest.config';
import { IngestModule } from './ingest.module';
import { IngestMetrics, RejectReason } from './metrics/ingest.metrics';

export const WEBHOOK_PATH = '/webhooks/popbill';

/** Secrets that must never reach a log line, whatever logs the request. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
];

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Fastify's own body-parser errors, answered before our controller runs. */
const PARSER_REJECTIONS: Record<string, RejectReason> = {
  RELAY_FORBIDDEN_KEY: 'forbidden_key',
  RELAY_INVALID_JSON: 'invalid_json',
  RELAY_UNSUPPORTED_CHARSET: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
};

function parserRejection(error: FastifyError): RejectReason | null {
  if (error.code && PARSER_REJECTIONS[error.code]) return PARSER_REJECTIONS[error.code];
  if (error.statusCode === 413) return 'body_too_large';
  if (error.statusCode === 415) return 'unsupported_media_type';
  if (error.statusCode === 400) return 'invalid_json';
  return null;
}

const isWebhook = (request: FastifyRequest) =>
  request.method === 'POST' && request.url.split('?')[0] === WEBHOOK_PATH;

export async function createIngestApp(config: IngestConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // Accepted, duplicate and rejected webhooks are logged once each, with their ids, by our code.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    logger: {
      level: config.logLevel,
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
  });
  const fastify = adapter.getInstance();
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
    IngestModule.forRoot(config),
    adapter,
    {
      bufferLogs: true,
      // Our own JSON parser (below) is registered instead of Nest's.
      bodyParser: false,
    },
  );
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();

  const metrics = app.get(IngestMetrics);
  fastify.addHook('onRequest', async (request) => {
    if (isWebhook(request)) metrics.received.inc();
  });
  fastify.addHook('onError', async (request, _reply, error) => {
    if (!isWebhook(request)) return;
    const reason = parserRejection(error);
    if (!reason) return;
    metrics.rejected.inc({ reason });
    request.log.warn(
      { reason, mid: request.headers['pb-webhook-mid'] },
      `webhook rejected: ${error.message}`,
    );
  });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Popbill → JANDI relay: ingest')
      .setDescription('Receives Popbill webhooks and stores each once in the relay queue.')
      .addBasicAuth()
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  await mountBullBoard(app, config);
  return app;
}
