import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { createRedisClient, RELAY_QUEUE } from '@app/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IngestConfig } from '../ingest.config';
import { secretEquals } from '../webhooks/popbill-auth';

export const BULL_BOARD_PATH = '/admin/queues';

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
  const serverAdapter = new FastifyAdapter().setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    // Dead letters are this queue's `failed` jobs; the board shows and retries them.
    queues: [new BullMQAdapter(queue, { allowRetries: true })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Popbill → JANDI relay' } },
  });

  const fastify = app.getHttpAdapter().getInstance();
  await fastify.register(
    async (scope) => {
      scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
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
