/**
 * npm run bench:ingest — the built ingest service against a bare Fastify + queue.add server,
 * and ingest with REDIS_MIN_REPLICAS_ACK=1 (WAIT for one replica after each store), interleaved
 * in one run on a private Redis with one replica: autocannon, 50 connections, warm-up, then timed
 * rounds. Prints req/s, p50/p99 latency, peak RSS, server CPU per request and the ratios to bare.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { DELIVER_EVENT_JOB, RELAY_JOB_OPTIONS, RELAY_QUEUE } from '@app/contracts';
import { freePort, REPO_ROOT, sleep, waitFor } from '../test/support/process';
import { POPBILL_FIXTURES } from '../test/support/fixtures';
import { RedisServer } from '../test/support/redis';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** USER_HZ: the unit of /proc/<pid>/stat CPU times, 100 on every Linux. */
const CLOCK_TICKS = 100;

const fixture = JSON.parse(
  readFileSync(join(POPBILL_FIXTURES, 'taxinvoice-issue.json'), 'utf8'),
) as { headers: Record<string, string>; body: object };
const BODY = JSON.stringify(fixture.body);

interface Target {
  name: string;
  command: string[];
  env?: Record<string, string>;
}

const INGEST = [join(REPO_ROOT, 'dist', 'apps', 'ingest', 'main.js')];
const TARGETS: Target[] = [
  { name: 'bare', command: [join(REPO_ROOT, 'bench', 'bare-server.js')] },
  { name: 'ingest', command: INGEST },
  { name: 'ingest, replica ack', command: INGEST, env: { REDIS_MIN_REPLICAS_ACK: '1' } },
];

interface Sample {
  name: string;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  rssMb: number;
  cpuPerRequest: number;
}

/** User + system CPU time of a process so far, in microseconds. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat, counted from the state field (3) here.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

let sequence = 0;

async function load(url: string, seconds: number): Promise<autocannon.Result> {
  const run = `${process.pid}-${Date.now()}`;
  return autocannon({
    url: `${url}/webhooks/popbill`,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { ...fixture.headers, 'content-type': 'application/json' },
    body: BODY,
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'Pb-Webhook-MID': `bench-${run}-${sequence++}` },
        }),
      },
    ],
  });
}

async function measure(target: Target, redisUrl: string, round: number): Promise<Sample> {
  const port = await freePort();
  const adminPort = await freePort();
  const child: ChildProcess = spawn(process.execPath, target.command, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      BENCH_QUEUE: RELAY_QUEUE,
      BENCH_JOB_NAME: DELIVER_EVENT_JOB,
      BENCH_JOB_OPTIONS: JSON.stringify(RELAY_JOB_OPTIONS),
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: '{bench}',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      ...target.env,
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => (await fetch(`${url}/health/live`).catch(() => null))?.status === 200,
      30_000,
      `${target.name} to start`,
      100,
    );
    await load(url, WARMUP_S);
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(child.pid!))), 200);
    const cpuBefore = cpuMicros(child.pid!);
    const result = await load(url, DURATION_S);
    const cpuUsed = cpuMicros(child.pid!) - cpuBefore;
    clearInterval(sampler);
    return {
      name: target.name,
      round,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      rssMb: peakRss,
      cpuPerRequest: cpuUsed / Math.max(1, result.requests.total),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const replica = await RedisServer.start({ replicaOf: redis.port });
  const admin = new Redis(redis.url);
  const samples: Sample[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate who goes first so drift on a shared machine does not favour one side.
      const order = round % 2 === 1 ? TARGETS : [...TARGETS].reverse();
      await waitFor(
        async () => Number(/connected_slaves:(\d+)/.exec(await admin.info('replication'))?.[1]) > 0,
        10_000,
        'the replica to connect',
      );
      for (const target of order) {
        await admin.flushall();
        samples.push(await measure(target, redis.url, round));
        await sleep(500);
      }
    }
  } finally {
    admin.disconnect();
    await replica.stop();
    await redis.stop();
  }

  console.log(
    `\nbench:ingest — ${CONNECTIONS} connections, ${WARMUP_S} s warm-up, ${DURATION_S} s × ${ROUNDS} rounds, interleaved\n`,
  );
  console.table(
    samples.map((s) => ({
      server: s.name,
      round: s.round,
      'req/s': Math.round(s.rps),
      'p50 ms': s.p50,
      'p99 ms': s.p99,
      'non-2xx': s.non2xx,
      errors: s.errors,
      'peak RSS MB': Math.round(s.rssMb),
      'CPU µs/req': Math.round(s.cpuPerRequest),
    })),
  );
  const of = (name: string) => samples.filter((s) => s.name === name);
  const summary = (name: string) => ({
    rps: mean(of(name).map((s) => s.rps)),
    p50: mean(of(name).map((s) => s.p50)),
    p99: mean(of(name).map((s) => s.p99)),
    rss: Math.max(...of(name).map((s) => s.rssMb)),
    cpu: mean(of(name).map((s) => s.cpuPerRequest)),
  });
  const bare = summary('bare');
  const rows = TARGETS.flatMap(({ name }) => {
    const it = summary(name);
    const row = {
      server: name,
      'req/s': String(Math.round(it.rps)),
      'p50 ms': it.p50.toFixed(1),
      'p99 ms': it.p99.toFixed(1),
      'peak RSS MB': String(Math.round(it.rss)),
      'CPU µs/req': String(Math.round(it.cpu)),
    };
    if (name === 'bare') return [row];
    return [
      row,
      {
        server: `${name} / bare`,
        'req/s': (it.rps / bare.rps).toFixed(2),
        'p50 ms': (it.p50 / bare.p50).toFixed(2),
        'p99 ms': (it.p99 / bare.p99).toFixed(2),
        'peak RSS MB': (it.rss / bare.rss).toFixed(2),
        'CPU µs/req': (it.cpu / bare.cpu).toFixed(2),
      },
    ];
  });
  console.table(rows);
}

void main();
