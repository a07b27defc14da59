/**
 * npm run bench:fanout — a partner routing each company (corpNum) to its own JANDI topic: 1,000
 * destinations in a generated routes file, URLs on the JANDI stand-in enforcing the real per-URL
 * limits (60/1m, 500/10m), 20,000 events spread over them, drained by 3 worker processes (dist/).
 * Interleaved in the same run on a private Redis, two baselines: BullMQ workers with the same
 * concurrency that only post each job to its company's URL (bare), and the same under the relay's
 * exact quota limiter (quota: the floor any exact cross-replica quota costs). Prints deliveries/s, CPU and Redis
 * commands per delivery, lag, the slowest destination against the median one, 429s, the ratio
 * to the baseline, the Redis commands each delivery runs by name, and what Redis holds per
 * destination afterwards.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Queue } from 'bullmq';
import { DELIVER_EVENT_JOB, RELAY_JOB_OPTIONS, RELAY_QUEUE } from '@app/contracts';
import { JandiStandin } from '@app/jandi-standin';
import { printRows, runBench } from './support';
import { freePort, REPO_ROOT, startApp, waitFor, type RunningApp } from '../test/support/process';
import { RedisServer } from '../test/support/redis';
import { fixtureJob } from '../apps/worker/test/popbill-fixtures';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const DESTINATIONS = Number(process.env.BENCH_DESTINATIONS ?? 1000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_TIMEOUT_MS = Number(process.env.BENCH_ROUND_TIMEOUT_MS ?? 300_000);
/**
 * A directory: relay workers write V8 CPU profiles of a round there (bench/cpu-profile.js);
 * bench/cpu-profile-summary.js sums them up.
 */
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF_DIR;
/** USER_HZ: the unit of /proc/<pid>/stat CPU times, 100 on every Linux. */
const CLOCK_TICKS = 100;

/**
 * bare: post only; quota: post under the relay's exact limiter only; relay: the product;
 * compared: the product from another build (BENCH_COMPARE_DIST).
 */
type Kind = 'bare' | 'quota' | 'relay' | 'compared';
/** Another checkout's dist/: its worker runs as kind `compared`, interleaved with this one's. */
const COMPARE_DIST = process.env.BENCH_COMPARE_DIST;
const KINDS: readonly Kind[] = [
  'bare',
  'quota',
  'relay',
  ...(COMPARE_DIST ? ['compared' as const] : []),
];

interface Sample {
  kind: Kind;
  round: number;
  perSecond: number;
  cpuPerDelivery: number;
  redisCpuPerDelivery: number;
  commandsPerDelivery: number;
  lags: number[];
  slowestDestination: number;
  medianDestination: number;
  tooMany: number;
  otherCpu: number;
  rssMb: number;
  /** Redis calls per delivery by command, Lua scripts' inner calls included. */
  commandMix: Record<string, number>;
  keys?: KeyReport;
}

interface KeyReport {
  perDestination: number;
  withoutTtl: string[];
  memoryPerDestination: number;
}

/** User + system CPU time of a process so far, in microseconds. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** Busy CPU of the whole machine so far, in microseconds: everyone's, not only ours. */
function machineCpuMicros(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1e6) / CLOCK_TICKS;
}

async function redisInfo(redis: Redis): Promise<Record<string, number>> {
  const info: Record<string, number> = {};
  for (const line of (await redis.info()).split('\r\n')) {
    const [key, value] = line.split(':');
    if (value !== undefined && Number.isFinite(Number(value))) info[key] = Number(value);
  }
  return info;
}

/** Calls so far by command (INFO commandstats), inner calls of Lua scripts included. */
async function redisCalls(redis: Redis): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const line of (await redis.info('commandstats')).split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match) calls[match[1]] = Number(match[2]);
  }
  return calls;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

const corpNumOf = (i: number) => String(1_000_000_000 + i);

/** One round's routes file: every company to its own path, on paths no other round uses. */
function writeRoutes(standin: JandiStandin, round: number): string {
  const destinations: Record<string, string> = {};
  const routes = [];
  for (let i = 0; i < DESTINATIONS; i++) {
    destinations[`corp_${i}`] = standin.url(`/connect-api/webhook/${round}/corp-${i}`);
    routes.push({ match: { corpNum: corpNumOf(i) }, destination: `corp_${i}` });
  }
  const file = join(tmpdir(), `fanout-routes-${process.pid}-${round}.json`);
  writeFileSync(file, JSON.stringify({ destinations, routes }));
  return file;
}

async function startBaseline(
  kind: 'bare' | 'quota',
  env: Record<string, string>,
): Promise<ChildProcess> {
  const script =
    kind === 'bare'
      ? ['bare-worker.js']
      : [
          '-r',
          'ts-node/register/transpile-only',
          '-r',
          'tsconfig-paths/register',
          'quota-worker.ts',
        ];
  const args = script.map((a) =>
    a.endsWith('.js') || a.endsWith('.ts') ? join(REPO_ROOT, 'bench', a) : a,
  );
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`bare worker exited with ${code}`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Keys under the round's prefix that belong to destinations (quota, digest), and their TTLs. */
async function keyReport(redis: Redis, prefix: string): Promise<KeyReport> {
  let cursor = '0';
  const keys: string[] = [];
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:jandi-*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const perUrl = keys.filter((k) => /:jandi-(quota|digest):[0-9a-f]{16}:/.test(k));
  const withoutTtl = new Set<string>();
  for (const key of perUrl)
    if ((await redis.pttl(key)) === -1) withoutTtl.add(key.replace(/^.*:([a-z]+)$/, '$1'));
  let memory = 0;
  for (const key of perUrl) memory += Number(await redis.call('MEMORY', 'USAGE', key));
  return {
    perDestination: perUrl.length / DESTINATIONS,
    withoutTtl: [...withoutTtl],
    memoryPerDestination: memory / DESTINATIONS,
  };
}

async function runRound(
  kind: Kind,
  round: number,
  redisServer: RedisServer,
  redis: Redis,
  standin: JandiStandin,
): Promise<Sample> {
  const prefix = `{fanout-${kind}-${round}}`;
  const routesFile = writeRoutes(standin, round);
  const defaultUrl = standin.url(`/connect-api/webhook/${round}/default`);
  const queue = new Queue(RELAY_QUEUE, { connection: { url: redisServer.url }, prefix });
  const relays: RunningApp[] = [];
  const bares: ChildProcess[] = [];
  try {
    if (kind === 'relay' || kind === 'compared') {
      relays.push(
        ...(await Promise.all(
          Array.from({ length: WORKERS }, async () => {
            const port = await freePort();
            return startApp(
              'worker',
              {
                REDIS_URL: redisServer.url,
                QUEUE_PREFIX: prefix,
                JANDI_WEBHOOK_URL: defaultUrl,
                JANDI_ROUTES_FILE: routesFile,
                WORKER_CONCURRENCY: String(CONCURRENCY),
                METRICS_HOST: '127.0.0.1',
                METRICS_PORT: String(port),
                LOG_LEVEL: 'warn',
                ...(CPU_PROF_DIR
                  ? {
                      NODE_OPTIONS: `--require ${join(REPO_ROOT, 'bench', 'cpu-profile.js')}`,
                      BENCH_CPU_PROF_DIR: CPU_PROF_DIR,
                    }
                  : {}),
              },
              `http://127.0.0.1:${port}/health/ready`,
              60_000,
              kind === 'compared' ? COMPARE_DIST : undefined,
            );
          }),
        )),
      );
    } else {
      bares.push(
        ...(await Promise.all(
          Array.from({ length: WORKERS }, () =>
            startBaseline(kind, {
              REDIS_URL: redisServer.url,
              QUEUE_PREFIX: prefix,
              BENCH_QUEUE: RELAY_QUEUE,
              BENCH_ROUTES_FILE: routesFile,
              BENCH_DEFAULT_URL: defaultUrl,
              BENCH_CONCURRENCY: String(CONCURRENCY),
            }),
          ),
        )),
      );
    }
    const pids = [...relays.map((r) => r.child.pid), ...bares.map((b) => b.pid)] as number[];
    const template = fixtureJob('taxinvoice-issue.json');
    const jobs = Array.from({ length: EVENTS }, (_, i) => {
      const corpNum = corpNumOf(i % DESTINATIONS);
      const eventId = `${kind}-${round}-${i}`;
      const key = `F${String(i).padStart(17, '0')}`;
      return {
        name: DELIVER_EVENT_JOB,
        data: {
          ...template,
          eventId,
          requestId: `req-${eventId}`,
          corpNum,
          body: { ...template.body, corpNum, itemKey: key, ntsConfirmNum: key },
        },
        opts: { ...RELAY_JOB_OPTIONS, jobId: eventId },
      };
    });
    // Shuffled, so companies interleave as they would at month end (seeded: rounds compare).
    let seed = 42;
    for (let i = jobs.length - 1; i > 0; i--) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const j = seed % (i + 1);
      [jobs[i], jobs[j]] = [jobs[j], jobs[i]];
    }

    const infoBefore = await redisInfo(redis);
    const callsBefore = await redisCalls(redis);
    const cpuBefore = pids.map(cpuMicros);
    const machineBefore = machineCpuMicros();
    const benchBefore = process.cpuUsage();
    const enqueuedAt = new Map<string, number>();
    const started = Date.now();
    for (let i = 0; i < jobs.length; i += 1000) {
      const chunk = jobs.slice(i, i + 1000);
      const at = Date.now();
      for (const job of chunk) enqueuedAt.set(job.data.eventId, at);
      await queue.addBulk(chunk);
    }
    const accepted = () => standin.accepted.length;
    await waitFor(() => accepted() >= EVENTS, ROUND_TIMEOUT_MS, `${kind} round ${round}`, 20);
    const lastAt = Math.max(...standin.accepted.map((m) => m.at));
    const wallMs = lastAt - started;
    const cpu = pids.map(cpuMicros).reduce((s, c, i) => s + c - cpuBefore[i], 0);
    const infoAfter = await redisInfo(redis);
    const callsAfter = await redisCalls(redis);
    const machine = machineCpuMicros() - machineBefore;
    const bench = process.cpuUsage(benchBefore);
    const redisCpu =
      (infoAfter.used_cpu_sys +
        infoAfter.used_cpu_user -
        infoBefore.used_cpu_sys -
        infoBefore.used_cpu_user) *
      1e6;
    const rss = pids.reduce((s, pid) => s + rssMb(pid), 0);

    const lags: number[] = [];
    const worstByPath = new Map<string, number>();
    for (const message of standin.accepted) {
      const id = message.connectInfo?.find((e) => e.title === '이벤트 ID')?.description ?? '';
      const lag = message.at - (enqueuedAt.get(id) ?? started);
      lags.push(lag);
      worstByPath.set(message.path, Math.max(worstByPath.get(message.path) ?? 0, lag));
    }
    lags.sort((a, b) => a - b);
    const worst = [...worstByPath.values()].sort((a, b) => a - b);
    const keys = kind === 'relay' ? await keyReport(redis, prefix) : undefined;
    return {
      kind,
      round,
      perSecond: (EVENTS / wallMs) * 1000,
      cpuPerDelivery: cpu / EVENTS,
      redisCpuPerDelivery: redisCpu / EVENTS,
      commandsPerDelivery:
        (infoAfter.total_commands_processed - infoBefore.total_commands_processed) / EVENTS,
      lags,
      slowestDestination: worst[worst.length - 1],
      medianDestination: percentile(worst, 50),
      tooMany: standin.requests.filter((r) => r.status === 429).length,
      // What other users of the machine took meanwhile (the bench process itself excluded).
      otherCpu: Math.max(0, machine - cpu - redisCpu - bench.user - bench.system) / (wallMs * 1000),
      rssMb: rss,
      commandMix: Object.fromEntries(
        Object.entries(callsAfter).map(([command, calls]) => [
          command,
          (calls - (callsBefore[command] ?? 0)) / EVENTS,
        ]),
      ),
      keys,
    };
  } finally {
    if (CPU_PROF_DIR) {
      for (const relay of relays) relay.child.kill('SIGUSR2');
      const written = (pid?: number) => existsSync(join(CPU_PROF_DIR, `${pid}.cpuprofile`));
      await waitFor(() => relays.every((r) => written(r.child.pid)), 30_000, 'CPU profiles');
    }
    await Promise.all([...relays.map((r) => r.kill()), ...bares.map(stop)]);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    standin.reset();
  }
}

const ms = (n: number) => `${n.toFixed(0)} ms`;

async function main(): Promise<void> {
  const redisServer = await RedisServer.start();
  const redis = new Redis(redisServer.url);
  const standin = new JandiStandin();
  await standin.listen();
  const samples: Sample[] = [];
  const load = loadavg()[0];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [index, kind] of KINDS.entries()) {
        const sample = await runRound(
          kind,
          round * KINDS.length + index,
          redisServer,
          redis,
          standin,
        );
        samples.push(sample);
        console.log(
          `${kind} round ${round}: ${sample.perSecond.toFixed(0)} deliveries/s, ` +
            `other load ${(sample.otherCpu * 100).toFixed(0)} % of a core`,
        );
      }
    }
  } finally {
    redis.disconnect();
    await standin.close();
    await redisServer.stop();
  }

  const of = (kind: Kind) => samples.filter((s) => s.kind === kind);
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  /** The commands of at least 0.1 call per delivery, busiest first, medians over rounds. */
  const commandMix = (mixes: Record<string, number>[]) =>
    [...new Set(mixes.flatMap((m) => Object.keys(m)))]
      .map((command) => [command, median(mixes.map((m) => m[command] ?? 0))] as const)
      .filter(([, calls]) => calls >= 0.1)
      .sort((a, b) => b[1] - a[1])
      .map(([command, calls]) => `${command} ${calls.toFixed(1)}`)
      .join(', ');
  const rows: [string, string][] = [
    ['destinations / events / worker processes', `${DESTINATIONS} / ${EVENTS} / ${WORKERS}`],
    ['concurrency per process / rounds', `${CONCURRENCY} / ${ROUNDS} each, interleaved`],
    [
      'machine load (1 min avg at start, other users during rounds)',
      `${load.toFixed(2)}, ${samples.map((s) => `${(s.otherCpu * 100).toFixed(0)}%`).join(' ')} of a core`,
    ],
  ];
  for (const kind of KINDS) {
    const runs = of(kind);
    const lags = runs.flatMap((s) => s.lags).sort((a, b) => a - b);
    rows.push(
      [`${kind}: deliveries/s per round`, runs.map((s) => s.perSecond.toFixed(0)).join(', ')],
      [
        `${kind}: worker CPU / Redis CPU per delivery`,
        `${median(runs.map((s) => s.cpuPerDelivery)).toFixed(0)} µs / ${median(runs.map((s) => s.redisCpuPerDelivery)).toFixed(0)} µs`,
      ],
      [
        `${kind}: Redis commands per delivery`,
        median(runs.map((s) => s.commandsPerDelivery)).toFixed(1),
      ],
      [
        `${kind}: lag p50 / p99 / max`,
        `${ms(percentile(lags, 50))} / ${ms(percentile(lags, 99))} / ${ms(lags[lags.length - 1])}`,
      ],
      [
        `${kind}: slowest destination / median (worst lag each)`,
        runs
          .map(
            (s) =>
              `${ms(s.slowestDestination)} / ${ms(s.medianDestination)} = ${(s.slowestDestination / s.medianDestination).toFixed(2)}×`,
          )
          .join(', '),
      ],
      [`${kind}: 429 responses`, String(runs.reduce((n, s) => n + s.tooMany, 0))],
      [
        `${kind}: Redis calls per delivery by command (median)`,
        commandMix(runs.map((s) => s.commandMix)),
      ],
      [`${kind}: worker RSS, all processes`, `${median(runs.map((s) => s.rssMb)).toFixed(0)} MB`],
    );
  }
  const keys = of('relay')[0]?.keys;
  if (keys) {
    rows.push(
      ['relay: Redis keys per destination after a round', keys.perDestination.toFixed(2)],
      ['relay: per-destination keys without a TTL', keys.withoutTtl.join(', ') || 'none'],
      [
        'relay: Redis memory per destination',
        `${(keys.memoryPerDestination / 1024).toFixed(1)} KB`,
      ],
    );
  }
  const perSecond = (kind: Kind) => median(of(kind).map((s) => s.perSecond));
  const cpuOf = (kind: Kind) =>
    median(of(kind).map((s) => s.cpuPerDelivery + s.redisCpuPerDelivery));
  for (const kind of KINDS.filter((k) => k !== 'bare')) {
    rows.push(
      [
        `${kind} / bare deliveries/s (medians)`,
        `${(perSecond(kind) / perSecond('bare')).toFixed(2)}×`,
      ],
      // On a machine whose cores are all busy, throughput follows CPU per delivery.
      [
        `bare / ${kind} CPU per delivery (workers + Redis)`,
        `${(cpuOf('bare') / cpuOf(kind)).toFixed(2)}×`,
      ],
    );
  }
  // The exact quota alone is the floor of any relay that keeps JANDI's windows across replicas.
  for (const kind of KINDS.filter((k) => k === 'relay' || k === 'compared'))
    rows.push([
      `${kind} / quota deliveries/s (medians)`,
      `${(perSecond(kind) / perSecond('quota')).toFixed(2)}×`,
    ]);
  printRows('fanout benchmark (1 URL per company, JANDI stand-in at real limits)', rows);
}

runBench(main);
