import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { HTTPStatus } from '@bull-board/api/dist/types';
import { FastifyAdapter } from '@bull-board/fastify';
import { RELAY_QUEUE } from '@app/contracts';
import { createRedisClient, RedisWatch } from '@app/redis';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IngestConfig } from '../ingest.config';
import { secretEquals } from '../webhooks/popbill-auth';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * The board's page loads its own scripts, styles and API only; inline styles are its React
 * components'. Its Google Fonts stylesheet is left out, so the browser falls back to local fonts.
 */
const BOARD_HEADERS = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const BOARD_FAILED = 'Bull Board could not read the queue; see the ingest log';

/** Checks a Basic Authorization header against the board's credentials in constant time. */
export function basicAuthMatches(
  header: string | undefined,
  credentials: { user: string; password: string },
): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header?.trim() ?? '');
  const given = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
  return secretEquals(given, `${credentials.user}:${credentials.password}`);
}

/**
 * Serves Bull Board at /admin/queues behind its own Basic auth. Not mounted without
 * BULL_BOARD_USER and BULL_BOARD_PASSWORD. It reads the queue through its own Redis connection,
 * so a busy board never queues behind webhook writes.
 */
export async function mountBullBoard(
  app: NestFastifyApplication,
  config: IngestConfig,
): Promise<void> {
  const credentials = config.bullBoard;
  if (!credentials) return;
  const redis = createRedisClient(config, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  const queue = new Queue(RELAY_QUEUE, { connection: redis, prefix: config.queuePrefix });
  const watch = app.get(RedisWatch);
  watch.watch('bull-board', redis);
  watch.watch('bull-board-queue', queue);
  const serverAdapter = new FastifyAdapter().setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    // Dead letters are this queue's `failed` jobs; the board shows and retries them.
    queues: [new BullMQAdapter(queue, { allowRetries: true })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Popbill → JANDI relay' } },
  });
  // Replaces the board's own handler, which answers with the Redis error's text.
  const logger = new Logger('BullBoard');
  serverAdapter.setErrorHandler((error: Error & { statusCode?: HTTPStatus }) => {
    const failed = !error.statusCode || error.statusCode >= 500;
    if (failed)
      logger.error({ err: error.message, stack: error.stack }, 'Bull Board request failed');
    return {
      status: failed ? 500 : error.statusCode,
      body: {
        error: { key: 'ERRORS.INTERNAL_SERVER_ERROR' },
        message: failed ? BOARD_FAILED : error.message,
      },
    };
  });

  const fastify = app.getHttpAdapter().getInstance();
  await fastify.register(
    async (scope) => {
      scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        reply.headers(BOARD_HEADERS);
        if (basicAuthMatches(request.headers.authorization, credentials)) return;
        await reply
          .code(401)
          .header('WWW-Authenticate', 'Basic realm="Bull Board", charset="UTF-8"')
          .send({ statusCode: 401, message: 'Bull Board credentials required' });
      });
      await scope.register(serverAdapter.registerPlugin());
    },
    { prefix: BULL_BOARD_PATH },
  );
  fastify.addHook('onClose', async () => {
    await queue.close();
    redis.disconnect();
  });
}
