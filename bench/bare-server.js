// The baseline of bench:ingest: a bare Fastify server that does nothing but store the body with
// the same job id, queue, options and Redis client settings as ingest. Plain JavaScript, so its
// RSS is not inflated by a TypeScript loader; bench/ingest.bench.ts passes the contract as env.
const Fastify = require('fastify');
const { Queue } = require('bullmq');
const Redis = require('ioredis');

async function main() {
  const connection = new Redis(process.env.REDIS_URL, {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
  });
  const queue = new Queue(process.env.BENCH_QUEUE, {
    connection,
    prefix: process.env.QUEUE_PREFIX,
  });
  const jobName = process.env.BENCH_JOB_NAME;
  const jobOptions = JSON.parse(process.env.BENCH_JOB_OPTIONS);
  await queue.waitUntilReady();
  const app = Fastify();
  app.post('/webhooks/popbill', async (request) => {
    await queue.add(jobName, request.body, {
      ...jobOptions,
      jobId: String(request.headers['pb-webhook-mid']),
    });
    return 'OK';
  });
  app.get('/health/live', async () => ({ status: 'ok' }));
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
}

process.on('SIGTERM', () => process.exit(0));
void main();
