// A second baseline of bench:fanout: bare-worker.js plus the one thing the product cannot drop,
// the exact cross-replica quota (the relay's own JandiQuotaLimiter: a grant before each post, a
// settle after it). Its distance from the bare worker is the floor any exact quota costs.
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { Worker } from 'bullmq';
import { JandiQuotaLimiter } from '../apps/worker/src/rate-limit/jandi-quota.limiter';
import { parseRateLimits } from '../apps/worker/src/config/rate-limits';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const { destinations, routes } = JSON.parse(readFileSync(env('BENCH_ROUTES_FILE'), 'utf8')) as {
  destinations: Record<string, string>;
  routes: { match: { corpNum: string }; destination: string }[];
};
const urlOf = new Map(routes.map((r) => [String(r.match.corpNum), destinations[r.destination]]));
const agent = new Agent({ keepAlive: true });
const headers = {
  Accept: 'application/vnd.tosslab.jandi-v2+json',
  'Content-Type': 'application/json',
};
const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: 2, enableAutoPipelining: true });
const limiter = new JandiQuotaLimiter(redis, {
  prefix: env('QUEUE_PREFIX'),
  limits: parseRateLimits('60/1m,500/10m'),
  // The worker's defaults (JANDI_RATE_SAFETY_MS, JANDI_INLINE_WAIT_MS, JANDI_TIMEOUT_MS).
  safetyMs: 500,
  inlineWaitMs: 250,
  sendMs: 10_000,
  lateMs: 10_000,
});

function post(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end(body);
  });
}

const worker = new Worker<{ eventId: string; corpNum: string }>(
  env('BENCH_QUEUE'),
  async (job) => {
    const { eventId, corpNum } = job.data;
    const url = urlOf.get(corpNum) ?? env('BENCH_DEFAULT_URL');
    let decision = await limiter.acquire(url, job.id ?? eventId);
    while (!decision.granted) {
      await sleep(decision.waitMs);
      decision = await limiter.acquire(url, job.id ?? eventId);
    }
    const body = JSON.stringify({
      body: eventId,
      connectInfo: [{ title: '이벤트 ID', description: eventId }],
    });
    const status = await post(url, body);
    await limiter.finish(url, decision.sendId, 'answered');
    if (status !== 200) throw new Error(`JANDI answered ${status}`);
  },
  {
    connection: { url: env('REDIS_URL'), maxRetriesPerRequest: null },
    prefix: env('QUEUE_PREFIX'),
    concurrency: Number(env('BENCH_CONCURRENCY')),
  },
);
void worker.waitUntilReady().then(() => process.stdout.write('ready\n'));
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
