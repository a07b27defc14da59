// The baseline of bench:fanout: a BullMQ worker with the relay's concurrency that only posts each
// job to its company's URL (no limiter, no rendering, no markers). Plain JavaScript, like
// bare-server.js; bench/fanout.bench.ts passes the queue, the routes file and the concurrency.
const { readFileSync } = require('node:fs');
const http = require('node:http');
const { Worker } = require('bullmq');

const { destinations, routes } = JSON.parse(readFileSync(process.env.BENCH_ROUTES_FILE, 'utf8'));
const urlOf = new Map(routes.map((r) => [String(r.match.corpNum), destinations[r.destination]]));
const agent = new http.Agent({ keepAlive: true });
const headers = {
  Accept: 'application/vnd.tosslab.jandi-v2+json',
  'Content-Type': 'application/json',
};

function post(url, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent, headers }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode));
    });
    request.once('error', reject);
    request.end(body);
  });
}

const worker = new Worker(
  process.env.BENCH_QUEUE,
  async (job) => {
    const { eventId, corpNum } = job.data;
    const body = JSON.stringify({
      body: eventId,
      connectInfo: [{ title: '이벤트 ID', description: eventId }],
    });
    const status = await post(urlOf.get(corpNum) ?? process.env.BENCH_DEFAULT_URL, body);
    if (status !== 200) throw new Error(`JANDI answered ${status}`);
  },
  {
    connection: { url: process.env.REDIS_URL, maxRetriesPerRequest: null },
    prefix: process.env.QUEUE_PREFIX,
    concurrency: Number(process.env.BENCH_CONCURRENCY),
  },
);
worker.waitUntilReady().then(() => process.stdout.write('ready\n'));
process.on('SIGTERM', () => worker.close().then(() => process.exit(0)));
