import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PopbillEventJob, RELAY_QUEUE } from '@app/contracts';
import { Job, Queue } from 'bullmq';
import { createIngestApp, listenIngest } from '../src/ingest.app';
import { eventIdFor } from '../src/webhooks/event-id';
import { loadIngestConfig } from '../src/ingest.config';
import { POPBILL_FIXTURES } from '../../../test/support/fixtures';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis';

export interface Fixture {
  name: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export function loadFixtures(): Fixture[] {
  return readdirSync(POPBILL_FIXTURES)
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({
      name: file,
      ...JSON.parse(readFileSync(join(POPBILL_FIXTURES, file), 'utf8')),
    }));
}

export interface IngestUnderTest {
  url: string;
  /** The admin port: /metrics, /docs, /admin/queues. */
  adminUrl: string;
  prefix: string;
  app: NestFastifyApplication;
  /** A separate Queue handle for inspecting what ingest stored. */
  queue: Queue<PopbillEventJob>;
  /** The job ingest stored for a Pb-Webhook-MID, if any. */
  jobOf(mid: string): Promise<Job<PopbillEventJob> | undefined>;
  post(body: unknown, headers?: Record<string, string>, init?: RequestInit): Promise<Response>;
  /** Value of one series, e.g. 'popbill_webhooks_rejected_total{reason="validation"}'; 0 if absent. */
  metric(series: string): Promise<number>;
  close(): Promise<void>;
}

/** The JSON error body every rejection carries. */
export interface ErrorBody {
  statusCode: number;
  message: string;
  errors?: Array<{ field: string; problems: string[] }>;
  [key: string]: unknown;
}

export const errorBody = async (response: Response) => (await response.json()) as ErrorBody;

const lowerCaseKeys = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

/** Boots the real ingest app on a loopback port with its own queue prefix. */
export async function startIngest(env: Record<string, string> = {}): Promise<IngestUnderTest> {
  const prefix = env.QUEUE_PREFIX ?? uniquePrefix('ingest');
  const redisUrl = env.REDIS_URL ?? TEST_REDIS_URL;
  const config = loadIngestConfig({
    LOG_LEVEL: 'silent',
    ...env,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
  });
  const app = await createIngestApp(config);
  const { url, adminUrl } = await listenIngest(app, {
    port: 0,
    host: '127.0.0.1',
    adminPort: 0,
    adminHost: '127.0.0.1',
  });
  const queue = new Queue<PopbillEventJob>(RELAY_QUEUE, { connection: { url: redisUrl }, prefix });
  return {
    url,
    adminUrl,
    prefix,
    app,
    queue,
    jobOf: (mid) => queue.getJob(eventIdFor('', mid, {}).eventId),
    post: (body, headers = {}, init = {}) =>
      fetch(`${url}/webhooks/popbill`, {
        method: 'POST',
        headers: lowerCaseKeys({ 'content-type': 'application/json', ...lowerCaseKeys(headers) }),
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...init,
      }),
    async metric(series) {
      const text = await (await fetch(`${adminUrl}/metrics`)).text();
      const line = text.split('\n').find((row) => row.startsWith(`${series} `));
      return line ? Number(line.slice(series.length + 1)) : 0;
    },
    async close() {
      await app.close();
      await queue.close();
      await deletePrefix(redisUrl, prefix);
    },
  };
}
