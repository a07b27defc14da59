import autocannon from 'autocannon';
import { Console } from 'node:console';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { bullmqKeySuffixes } from '../support/bullmq-keys';
import { POPBILL_FIXTURES } from '../support/fixtures';
import { sleep, waitFor, type RunningApp } from '../support/process';
import { RedisSentinel, RedisServer, sentinelBinary } from '../support/redis';
import { emptyTally, JANDI_PATH, makeEvents, RelaySystem, rssMb, rssSampler } from './relay-system';

export interface Row {
  scenario: string;
  sent: number;
  acked: number;
  answered503: number;
  delivered: number;
  lost: number;
  duplicates: number;
  answered5xx: number;
  peakRssMb: number;
  /** Printed under the table: the scenario's own figures in words. */
  notes: string;
}

export interface Scale {
  events: number;
  /** Webhooks per second while the Sentinel master is killed, and for how long. */
  failoverRate: number;
  failoverSeconds: number;
  hostileRequests: number;
  loadRate: number;
  loadSeconds: number;
  outageMs: number;
}

export const CI_SCALE: Scale = {
  events: 300,
  failoverRate: 40,
  failoverSeconds: 6,
  hostileRequests: 10_000,
  loadRate: 1000,
  loadSeconds: 10,
  outageMs: 3000,
};
export const FULL_SCALE: Scale = {
  events: 2000,
  failoverRate: 100,
  failoverSeconds: 20,
  hostileRequests: 20_000,
  loadRate: 2000,
  loadSeconds: 60,
  outageMs: 10_000,
};

/** Generous quota: these scenarios are about loss, not pacing. */
const FAST_LIMITS = [{ count: 400, windowMs: 1000 }];

function deliveryRow(
  scenario: string,
  system: RelaySystem,
  events: ReturnType<typeof makeEvents>,
  tally: ReturnType<typeof emptyTally>,
  peakRssMb: number,
  notes: string,
): Row {
  const seen = system.deliveries(events);
  const ackedEvents = events.filter((e) => tally.acked.has(e.mid));
  return {
    scenario,
    sent: tally.sent,
    acked: tally.acked.size,
    answered503: tally.answered503,
    delivered: seen.size,
    lost: ackedEvents.filter((e) => !seen.has(e.itemKey)).length,
    duplicates: [...seen.values()].reduce((sum, n) => sum + n - 1, 0),
    answered5xx: tally.answered5xx,
    peakRssMb: Math.round(peakRssMb),
    notes,
  };
}

/** 1. Redis SIGKILLed mid-load and restarted from its AOF. */
export async function redisKilled(scale: Scale): Promise<Row> {
  const system = await RelaySystem.start({ workers: 1, limits: FAST_LIMITS });
  try {
    const events = makeEvents(scale.events);
    const tally = emptyTally();
    const rss = rssSampler(system.ingest.child.pid);
    // Popbill resends 5 minutes apart; scaled down, 4 sends 1.5 s apart outlast the outage.
    const sending = system.sendAll(events, tally, scale.events / 3, 32, 1500);
    await sleep(1000);
    await system.redis.kill();
    await sleep(1500);
    await system.redis.restart();
    await sending;
    await system.waitForDelivery(events, tally.acked, 60_000);
    return deliveryRow(
      '1 Redis killed + AOF restart',
      system,
      events,
      tally,
      rss.stop(),
      'appendfsync always',
    );
  } finally {
    await system.stop();
  }
}

/** 2. Two of three workers SIGKILLed mid-backlog. */
export async function workersKilled(scale: Scale): Promise<Row & { http429: number }> {
  const system = await RelaySystem.start({
    workers: 3,
    limits: [{ count: scale.events / 4, windowMs: 1000 }],
  });
  try {
    const events = makeEvents(scale.events);
    const tally = emptyTally();
    const rss = rssSampler(system.ingest.child.pid);
    await system.sendAll(events, tally, 5000);
    while (system.deliveries(events).size < scale.events / 4) await sleep(20);
    await Promise.all(system.workers.slice(0, 2).map((w) => w.kill()));
    await system.waitForDelivery(events, tally.acked, 60_000);
    const http429 = system.count429();
    return {
      ...deliveryRow(
        '2 two of three workers killed',
        system,
        events,
        tally,
        rss.stop(),
        `429s: ${http429}`,
      ),
      http429,
    };
  } finally {
    await system.stop();
  }
}

/** 3. JANDI answers 503, then hangs, for a long (scaled) stretch; then the backlog drains. */
export async function jandiOutage(
  scale: Scale,
): Promise<Row & { deadLettered: number; http429: number }> {
  const limits = [{ count: 20, windowMs: 1000 }];
  const system = await RelaySystem.start({ workers: 2, limits });
  try {
    const events = makeEvents(Math.min(scale.events, 200));
    const tally = emptyTally();
    const rss = rssSampler(system.ingest.child.pid);
    system.standin.setMode(JANDI_PATH, 'server-error');
    await system.sendAll(events, tally, 2000);
    await sleep(scale.outageMs / 2);
    system.standin.setMode(JANDI_PATH, 'hang');
    await sleep(scale.outageMs / 2);
    system.standin.setMode(JANDI_PATH, 'ok');
    await system.waitForDelivery(events, tally.acked, 60_000 + (events.length / 20) * 1000);
    const deadLettered = await system.queue.getJobCountByTypes('failed');
    const http429 = system.count429();
    return {
      ...deliveryRow(
        '3 JANDI outage (503, then hang)',
        system,
        events,
        tally,
        rss.stop(),
        `dead-lettered: ${deadLettered}, 429s: ${http429}`,
      ),
      deadLettered,
      http429,
    };
  } finally {
    await system.stop();
  }
}

interface RawResult {
  status: number;
}

/** Sends raw bytes on a socket and reads the status line; 0 when the server closed without one. */
function rawExchange(port: number, payload: Buffer | string, endAfterMs = 0): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = (status: number) => {
      socket.destroy();
      resolve({ status });
    };
    socket.setTimeout(15_000, () => done(0));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (match) done(Number(match[1]));
    });
    socket.on('error', () => done(0));
    socket.on('close', () => done(0));
    socket.write(payload);
    if (endAfterMs > 0) setTimeout(() => socket.end(), endAfterMs);
  });
}

const HEADERS = 'Pb-Webhook-Type: TAXINVOICE.STATE\r\nPb-Webhook-MID: hostile\r\n';

/**
 * The hostile bodies, none of them an event: each returns [content type, body]. Odd field
 * values in a JSON object are events, stored and flagged (test/flagged-events.e2e-spec.ts).
 */
function hostileBodies(): Array<[string, string, Buffer | string]> {
  const valid = JSON.parse(
    readFileSync(join(POPBILL_FIXTURES, 'taxinvoice-issue.json'), 'utf8'),
  ).body;
  const deep = (depth: number, open: string, close: string, leaf: string) =>
    open.repeat(depth) + leaf + close.repeat(depth);
  return [
    ['invalid JSON', 'application/json', '{"eventType": "Issue", '],
    [
      'invalid UTF-8, not JSON',
      'application/json',
      Buffer.concat([
        Buffer.from('{"eventType": '),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('}'),
      ]),
    ],
    ['null body', 'application/json', 'null'],
    ['array body', 'application/json', '[{"eventType":"Issue"}]'],
    ['deep arrays', 'application/json', deep(20_000, '[', ']', '1')],
    ['deep objects', 'application/json', `{"x":${deep(10_000, '{"a":', '}', '1')}}`],
    [
      '__proto__',
      'application/json',
      JSON.stringify(valid).replace('{', '{"__proto__":{"isAdmin":true},'),
    ],
    [
      'constructor.prototype',
      'application/json',
      JSON.stringify(valid).replace('{', '{"constructor":{"prototype":{"isAdmin":true}},'),
    ],
    ['oversized body', 'application/json', JSON.stringify({ ...valid, pad: 'x'.repeat(400_000) })],
    ['text/plain', 'text/plain', JSON.stringify(valid)],
    ['form', 'application/x-www-form-urlencoded', 'eventType=Issue'],
    ['no content type', '', JSON.stringify(valid)],
    ['JSON with charset junk', 'application/json; charset=ebcdic', JSON.stringify(valid)],
  ];
}

function rawRequest(contentType: string, body: Buffer | string, mid: string): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const head =
    `POST /webhooks/popbill HTTP/1.1\r\nHost: localhost\r\n${HEADERS.replace('hostile', mid)}` +
    (contentType ? `Content-Type: ${contentType}\r\n` : '') +
    `Content-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), bytes]);
}

/**
 * 4. ≥ 10,000 malformed and malicious requests: only 4xx, nothing stored, RSS flat. Then valid
 * events whose MIDs are BullMQ's own key names, among ordinary ones: every one is stored and
 * delivered once, so no request changes another event's fate.
 */
/** What the hostile requests did, beside the delivery figures. */
export interface HostileRow extends Row {
  /** Valid events sent after the hostile requests. */
  events: number;
  /** Hostile requests answered 200, and jobs they left in the queue. */
  malformedAcked: number;
  malformedEnqueued: number;
  /** Hostile requests answered neither 4xx nor not at all. */
  non4xx: number;
  alive: boolean;
  /** Ingest's RSS after the warm-up and at the end of the hostile requests, rounded. */
  rssStartMb: number;
  rssEndMb: number;
  /** Events named after BullMQ's keys, sent again, were acked and stored nothing new. */
  resendsDeduped: boolean;
}

export async function hostileInput(scale: Scale): Promise<HostileRow> {
  const system = await RelaySystem.start({
    workers: 0,
    limits: FAST_LIMITS,
    ingestEnv: { LOG_LEVEL: 'error' },
  });
  const port = Number(new URL(system.ingestUrl).port);
  try {
    const jobsBefore = await system.queue.count();
    const pid = system.ingest.child.pid;
    // RSS is compared from after a warm-up, once V8 has sized its heap for these bodies.
    let rssStart = 0;
    const sampler = rssSampler(pid);
    const statuses = new Map<number, number>();
    const record = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const bodies = hostileBodies();
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    let sent = 0;

    // Most of the volume: malformed bodies over keep-alive connections.
    const perLane = Math.ceil((scale.hostileRequests - 200) / 16);
    await Promise.all(
      Array.from({ length: 16 }, async (_, lane) => {
        for (let i = 0; i < perLane; i++) {
          const [, contentType, body] = bodies[(lane + i) % bodies.length];
          if (++sent === 2000) rssStart = rssMb(pid);
          record(
            await new Promise<number>((resolve) => {
              const req = httpRequest(
                {
                  host: '127.0.0.1',
                  port,
                  path: '/webhooks/popbill',
                  method: 'POST',
                  agent,
                  headers: {
                    'pb-webhook-type': 'TAXINVOICE.STATE',
                    'pb-webhook-mid': `hostile-${lane}-${i}`,
                    ...(contentType ? { 'content-type': contentType } : {}),
                  },
                },
                (res) => {
                  res.resume();
                  res.on('end', () => resolve(res.statusCode ?? 0));
                },
              );
              req.on('error', () => resolve(0));
              req.end(body);
            }),
          );
        }
      }),
    );
    agent.destroy();

    // The rest: header floods, truncated and slow bodies on raw sockets.
    const rawCases: Array<() => Promise<RawResult>> = [
      () =>
        rawExchange(
          port,
          `POST /webhooks/popbill HTTP/1.1\r\nHost: x\r\n${'X-Flood: y\r\n'.repeat(3000)}\r\n`,
        ),
      () =>
        rawExchange(
          port,
          `POST /webhooks/popbill HTTP/1.1\r\nHost: x\r\nX-Big: ${'z'.repeat(20_000)}\r\n\r\n`,
        ),
      () =>
        rawExchange(
          port,
          rawRequest('application/json', '{"eventType":"Issue"}', 'truncated').subarray(0, -5),
          50,
        ),
      () =>
        rawExchange(
          port,
          rawRequest('application/json', '{"a":1}', 'bad-length')
            .toString()
            .replace('Content-Length: 7', 'Content-Length: abc'),
        ),
      () => rawExchange(port, 'GARBAGE\r\n\r\n'),
    ];
    for (let i = 0; i < 200; i++) {
      sent++;
      record((await rawCases[i % rawCases.length]()).status);
    }
    // A slow client trickling a body must not hold the service hostage.
    const slow = rawExchange(
      port,
      rawRequest('application/json', '{"eventType":', 'slow').subarray(0, 120),
    );
    const healthy = await fetch(`${system.ingestUrl}/health/live`);
    await Promise.race([slow, sleep(100)]);

    const jobsAfter = await system.queue.count();
    const rssEnd = rssMb(pid);
    const alive = system.ingest.child.exitCode === null && healthy.status === 200;

    const keyNames = bullmqKeySuffixes();
    const events = makeEvents(keyNames.length + scale.events);
    const named = events.slice(0, keyNames.length).map((e, i) => ({ ...e, mid: keyNames[i] }));
    const ordinary = events.slice(keyNames.length);
    const perName = Math.floor(ordinary.length / named.length);
    const order = named.flatMap((e, i) => [e, ...ordinary.slice(i * perName, (i + 1) * perName)]);
    order.push(...ordinary.slice(named.length * perName));
    const tally = emptyTally();
    // One try each: a refusal here would be the fate of one event changed by another.
    for (const event of order) await system.sendLikePopbill(event, tally, 1);
    const storedBeforeResend = await system.queue.count();
    const resend = emptyTally();
    for (const event of named) await system.sendLikePopbill(event, resend, 1);
    const resendsDeduped =
      resend.acked.size === named.length && (await system.queue.count()) === storedBeforeResend;
    await system.startWorker();
    await system.waitForDelivery(order, tally.acked, 60_000);
    const seen = system.deliveries(order);
    const answered5xx = [...statuses].filter(([s]) => s >= 500).reduce((sum, [, n]) => sum + n, 0);
    const non4xx = [...statuses]
      .filter(([s]) => s !== 0 && (s < 400 || s >= 500))
      .reduce((sum, [, n]) => sum + n, 0);
    const malformedAcked = statuses.get(200) ?? 0;
    const malformedEnqueued = jobsAfter - jobsBefore;
    const [rssStartMb, rssEndMb] = [Math.round(rssStart), Math.round(rssEnd)];
    return {
      scenario: '4 hostile input',
      sent: sent + tally.sent,
      acked: tally.acked.size,
      answered503: (statuses.get(503) ?? 0) + tally.answered503,
      delivered: seen.size,
      lost: order.filter((e) => tally.acked.has(e.mid) && !seen.has(e.itemKey)).length,
      duplicates: [...seen.values()].reduce((total, n) => total + n - 1, 0),
      answered5xx: answered5xx + tally.answered5xx,
      peakRssMb: Math.round(sampler.stop()),
      events: order.length,
      malformedAcked,
      malformedEnqueued,
      non4xx,
      alive,
      rssStartMb,
      rssEndMb,
      resendsDeduped,
      notes: `malformed acked ${malformedAcked}; malformed enqueued ${malformedEnqueued}; non-4xx ${non4xx}; no answer ${statuses.get(0) ?? 0}; alive ${alive}; RSS ${rssStartMb}→${rssEndMb} MB; key-name MIDs ${named.length}, resends deduped ${resendsDeduped}; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    };
  } finally {
    await system.stop();
  }
}

export const SECRETS = {
  basicPassword: 'basic-pw-7f3a9c',
  apiKey: 'api-key-51d0e2',
  boardPassword: 'board-pw-c4e8b1',
  adminToken: 'admin-token-9a2f6d',
};

/** 5. Wrong credentials and sources are refused; no secret or JANDI URL reaches the logs. */
export async function access(): Promise<
  Row & { refused: Record<string, number>; secretsInLogs: number }
> {
  const system = await RelaySystem.start({
    workers: 1,
    limits: FAST_LIMITS,
    ingestEnv: {
      POPBILL_BASIC_AUTH: `popbill:${SECRETS.basicPassword}`,
      POPBILL_API_KEY: SECRETS.apiKey,
      BULL_BOARD_USER: 'ops',
      BULL_BOARD_PASSWORD: SECRETS.boardPassword,
      LOG_LEVEL: 'debug',
    },
    workerEnv: { ADMIN_TOKEN: SECRETS.adminToken, LOG_LEVEL: 'debug' },
  });
  try {
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const webhook = (headers: Record<string, string>, body = makeEvents(1)[0].body) =>
      fetch(`${system.ingestUrl}/webhooks/popbill`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'pb-webhook-type': 'TAXINVOICE.STATE',
          ...headers,
        },
        body: JSON.stringify(body),
      }).then((r) => r.status);
    const workerPort = system.workerPorts[0];
    const adminUrl = (path: string) => `http://127.0.0.1:${workerPort}${path}`;
    const refused: Record<string, number> = {
      'webhook, no credentials': await webhook({}),
      'webhook, wrong Basic password': await webhook({ authorization: basic('popbill', 'nope') }),
      'webhook, wrong API key': await webhook({ 'x-api-key': 'nope' }),
      'Bull Board, no credentials': (await fetch(`${system.ingestAdminUrl}/admin/queues`)).status,
      'Bull Board, wrong password': (
        await fetch(`${system.ingestAdminUrl}/admin/queues`, {
          headers: { authorization: basic('ops', 'nope') },
        })
      ).status,
      'replay, no token': (
        await fetch(adminUrl('/admin/dead-letters/replay'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"all":true}',
        })
      ).status,
      'replay, wrong token': (
        await fetch(adminUrl('/admin/dead-letters/replay'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
          body: '{"all":true}',
        })
      ).status,
      'dead letters, no token': (await fetch(adminUrl('/admin/dead-letters'))).status,
    };
    // Right credentials, so secrets travel through every code path that might log them.
    const tally = emptyTally();
    const events = makeEvents(5);
    for (const event of events) {
      const status = await webhook(
        { authorization: basic('popbill', SECRETS.basicPassword), 'pb-webhook-mid': event.mid },
        event.body,
      );
      if (status === 200) tally.acked.add(event.mid);
      tally.sent++;
    }
    await webhook({ 'x-api-key': SECRETS.apiKey, 'pb-webhook-mid': 'api-key-path' });
    await fetch(`${system.ingestAdminUrl}/admin/queues`, {
      headers: { authorization: basic('ops', SECRETS.boardPassword) },
    });
    await fetch(adminUrl('/admin/dead-letters'), {
      headers: { authorization: `Bearer ${SECRETS.adminToken}` },
    });
    await system.waitForDelivery(events, tally.acked, 20_000);

    const allowlisted = await RelaySystem.start({
      workers: 0,
      limits: FAST_LIMITS,
      ingestEnv: { POPBILL_ALLOWED_IPS: '54.180.62.221,13.124.72.158' },
    });
    try {
      refused['webhook from a source outside POPBILL_ALLOWED_IPS'] = await fetch(
        `${allowlisted.ingestUrl}/webhooks/popbill`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'pb-webhook-type': 'TAXINVOICE.STATE' },
          body: '{}',
        },
      ).then((r) => r.status);
    } finally {
      await allowlisted.stop();
    }

    const logs = system.output();
    const token = JANDI_PATH.split('/').pop() ?? '';
    const leaks = [
      ...Object.values(SECRETS),
      token,
      Buffer.from(`popbill:${SECRETS.basicPassword}`).toString('base64'),
    ].filter((secret) => logs.includes(secret));
    return {
      ...deliveryRow(
        '5 access',
        system,
        events,
        tally,
        rssMb(system.ingest.child.pid),
        `refused ${Object.values(refused).filter((s) => s === 401 || s === 403).length}/${Object.keys(refused).length}; secrets in logs ${leaks.length}`,
      ),
      refused,
      secretsInLogs: leaks.length,
    };
  } finally {
    await system.stop();
  }
}

/** 6. Sustained mixed load at ingest with 1 % duplicates. */
export async function load(scale: Scale): Promise<Row & { p99: number; errors: number }> {
  const system = await RelaySystem.start({
    workers: 0,
    limits: FAST_LIMITS,
    ingestEnv: { LOG_LEVEL: 'warn' },
  });
  try {
    const dir = POPBILL_FIXTURES;
    const fixtures = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map(
        (f) =>
          JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
            headers: Record<string, string>;
            body: object;
          },
      );
    let sequence = 0;
    const sampler = rssSampler(system.ingest.child.pid);
    const result = await autocannon({
      url: `${system.ingestUrl}/webhooks/popbill`,
      connections: 50,
      overallRate: scale.loadRate,
      duration: scale.loadSeconds,
      method: 'POST',
      requests: [
        {
          setupRequest: (request) => {
            const n = sequence++;
            const fixture = fixtures[n % fixtures.length];
            // Every 100th request re-sends the previous event, as a Popbill retry would.
            const mid = n % 100 === 99 ? `load-${n - 1}` : `load-${n}`;
            return {
              ...request,
              headers: { ...fixture.headers, 'Pb-Webhook-MID': mid },
              body: JSON.stringify(fixture.body),
            };
          },
        },
      ],
    });
    const stored = await system.queue.count();
    return {
      scenario: `6 load ${scale.loadRate} req/s × ${scale.loadSeconds} s`,
      sent: result.requests.total,
      acked: result['2xx'],
      answered503: 0,
      delivered: 0,
      lost: 0,
      duplicates: 0,
      answered5xx: result['5xx'],
      peakRssMb: Math.round(sampler.stop()),
      notes: `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; errors ${result.errors + result.timeouts}; non-2xx ${result.non2xx}; jobs stored ${stored}; achieved ${Math.round(result.requests.average)} req/s`,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts + result.non2xx,
    };
  } finally {
    await system.stop();
  }
}

/** Waits for a process to exit on its own within `ms`; its exit code, or null if still running. */
async function exitWithin(app: RunningApp, ms: number): Promise<number | string | null> {
  const { child } = app;
  if (child.exitCode !== null || child.signalCode !== null)
    return child.signalCode ?? child.exitCode;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal ?? code);
    });
  });
}

/** The job ids a worker logged as abandoned when its shutdown ran out of time. */
function abandonedJobIds(output: string): string[] {
  for (const line of output.split('\n')) {
    if (!line.includes('"abandoned"')) continue;
    try {
      return (JSON.parse(line) as { abandoned: string[] }).abandoned;
    } catch {
      continue;
    }
  }
  return [];
}

const GRACE_MS = 2000;
/** Generous: a loaded 2-core machine; still far below a process that never exits. */
const EXIT_WAIT_MS = GRACE_MS + 5000 + 20_000;

export interface ShutdownRow extends Row {
  /** Exit code or signal of each app after SIGTERM with Redis gone; null = still running. */
  exits: { worker: number | string | null; ingest: number | string | null };
  abandoned: string[];
  /** Abandoned jobs another worker took back as stalled and delivered. */
  recoveredAsStalled: number;
}

/**
 * 7. SIGTERM with Redis gone: a worker holding jobs mid-send (JANDI hangs) and ingest both exit
 * within grace + margin, the worker non-zero with the jobs it abandoned logged; once Redis is
 * back, another worker takes those jobs back as stalled and delivers them.
 */
export async function shutdownWithoutRedis(): Promise<ShutdownRow> {
  const system = await RelaySystem.start({
    workers: 1,
    limits: FAST_LIMITS,
    workerEnv: { SHUTDOWN_GRACE_MS: String(GRACE_MS), JANDI_TIMEOUT_MS: '60000' },
    ingestEnv: { SHUTDOWN_GRACE_MS: String(GRACE_MS) },
  });
  try {
    const events = makeEvents(24);
    const tally = emptyTally();
    system.standin.setMode(JANDI_PATH, 'hang');
    await system.sendAll(events, tally, 200);
    await waitFor(
      async () => (await system.queue.getJobCounts('active')).active >= 16,
      20_000,
      'the worker to hold 16 jobs mid-send',
    );
    await system.redis.kill();
    const [worker] = system.workers;
    worker.child.kill('SIGTERM');
    system.ingest.child.kill('SIGTERM');
    const [workerExit, ingestExit] = await Promise.all([
      exitWithin(worker, EXIT_WAIT_MS),
      exitWithin(system.ingest, EXIT_WAIT_MS),
    ]);
    const abandoned = abandonedJobIds(worker.output());

    system.standin.setMode(JANDI_PATH, 'ok');
    await system.redis.restart();
    await system.startWorker({ JANDI_TIMEOUT_MS: '1000' });
    await system.waitForDelivery(events, tally.acked, 60_000);
    let recoveredAsStalled = 0;
    for (const id of abandoned) {
      const job = await system.queue.getJob(id);
      if (job?.finishedOn && job.stalledCounter > 0) recoveredAsStalled++;
    }
    return {
      ...deliveryRow('7 SIGTERM with Redis gone', system, events, tally, 0, ''),
      notes: `exit codes worker ${workerExit}, ingest ${ingestExit} (bound ${GRACE_MS} + 5000 ms); abandoned ${abandoned.length}, taken back as stalled and delivered ${recoveredAsStalled}`,
      exits: { worker: workerExit, ingest: ingestExit },
      abandoned,
      recoveredAsStalled,
    };
  } finally {
    await system.stop();
  }
}

const status = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.status,
    () => 0,
  );

const metric = async (url: string, name: string): Promise<number | null> => {
  const text = await fetch(url).then((r) => r.text());
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
};

export interface StartupRow extends Row {
  /** Readiness (HTTP status) and relay_redis_up while Redis is absent, then once it is there. */
  before: { ingestReady: number; workerReady: number; webhook: number; redisUp: number | null };
  after: { ingestReady: number; workerReady: number; redisUp: number | null };
  restarts: number;
  unstructuredErrors: number;
}

/** 8. Apps started before Redis: not ready and 503 meanwhile, ready once Redis is up, no restart. */
export async function startBeforeRedis(): Promise<StartupRow> {
  const redis = await RedisServer.reserve();
  const system = await RelaySystem.start({
    workers: 1,
    limits: FAST_LIMITS,
    redis,
    liveOnly: true,
  });
  try {
    const workerUrl = `http://127.0.0.1:${system.workerPorts[0]}`;
    const probe = makeEvents(1);
    const probeTally = emptyTally();
    await system.sendLikePopbill(probe[0], probeTally, 1);
    const before = {
      ingestReady: await status(`${system.ingestUrl}/health/ready`),
      workerReady: await status(`${workerUrl}/health/ready`),
      webhook: probeTally.answered503 === 1 ? 503 : probeTally.acked.size ? 200 : 0,
      redisUp: await metric(`${system.ingestAdminUrl}/metrics`, 'relay_redis_up'),
    };
    const pids = [system.ingest.child.pid, system.workers[0].child.pid];
    await redis.restart();
    await waitFor(
      async () =>
        (await status(`${system.ingestUrl}/health/ready`)) === 200 &&
        (await status(`${workerUrl}/health/ready`)) === 200,
      30_000,
      'ingest and worker to become ready',
      200,
    );
    const after = {
      ingestReady: await status(`${system.ingestUrl}/health/ready`),
      workerReady: await status(`${workerUrl}/health/ready`),
      redisUp: await metric(`${workerUrl}/metrics`, 'relay_redis_up'),
    };
    const events = makeEvents(20);
    const tally = emptyTally();
    await system.sendAll(events, tally, 100);
    await system.waitForDelivery(events, tally.acked, 30_000);
    const now = [system.ingest.child, system.workers[0].child];
    const restarts = now.filter((c, i) => c.pid !== pids[i] || c.exitCode !== null).length;
    const unstructuredErrors = (system.output().match(/Unhandled error event|^Error: /gm) ?? [])
      .length;
    return {
      ...deliveryRow('8 started before Redis', system, events, tally, 0, ''),
      notes: `before Redis: ready ingest ${before.ingestReady}, worker ${before.workerReady}, webhook ${before.webhook}, relay_redis_up ${before.redisUp}; after: ready ${after.ingestReady}/${after.workerReady}, relay_redis_up ${after.redisUp}; restarts ${restarts}; unstructured error lines ${unstructuredErrors}`,
      before,
      after,
      restarts,
      unstructuredErrors,
    };
  } finally {
    await system.stop();
  }
}

export interface FullRow extends Row {
  /** While full: ingest readiness body's `redis`, relay_redis_full, and a log line said so. */
  whileFull: {
    readyStatus: number;
    readyRedis: string;
    fullMetric: number | null;
    logged: boolean;
  };
  /** Acked events still queued or delivered once the worker drained: none missing. */
  storedAcked: number;
  /** Delivered before the operator raised maxmemory. */
  deliveredWhileFull: number;
  acceptsAfterMoreMemory: boolean;
}

/**
 * 9. Redis full (small maxmemory, noeviction): ingest answers 503 and says why in health,
 * metrics and logs, nothing acknowledged is lost, the worker keeps delivering.
 */
export async function redisFull(): Promise<FullRow> {
  const redis = await RedisServer.start({ maxmemory: '16mb' });
  const system = await RelaySystem.start({
    workers: 0,
    limits: FAST_LIMITS,
    redis,
    // At this small maxmemory the workers' share (BullMQ's events stream of up to 10,000
    // entries, completed jobs, markers) needs a third.
    ingestEnv: { LOG_LEVEL: 'warn', REDIS_MEMORY_LIMIT_PERCENT: '65' },
  });
  try {
    const events = makeEvents(20_000);
    const tally = emptyTally();
    let sentCount = 0;
    // One try each, 16 at a time, until Redis has refused a few.
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (tally.answered503 < 20 && sentCount < events.length) {
          await system.sendLikePopbill(events[sentCount++], tally, 1);
        }
      }),
    );
    const sent = events.slice(0, sentCount);
    const ready = await fetch(`${system.ingestUrl}/health/ready`);
    const readyBody = (await ready.json()) as { redis?: string };
    const whileFull = {
      readyStatus: ready.status,
      readyRedis: readyBody.redis ?? '',
      fullMetric: await metric(`${system.ingestAdminUrl}/metrics`, 'relay_redis_full'),
      logged: /Redis is full/.test(system.ingest.output()),
    };
    await system.startWorker();
    await system.waitForDelivery(sent, tally.acked, 60_000);
    const deliveredWhileFull = system.deliveries(sent).size;
    const storedAcked = sent.filter((e) => tally.acked.has(e.mid)).length;
    // The operator's fix: more memory; ingest takes events again without a restart.
    await redis.command('CONFIG', 'SET', 'maxmemory', '64mb');
    const after = emptyTally();
    const more = makeEvents(5);
    await waitFor(
      async () => {
        await system.sendLikePopbill(more[after.acked.size], after, 1);
        return after.acked.size === more.length;
      },
      20_000,
      'ingest to store webhooks again',
      200,
    ).catch(() => undefined);
    await system.waitForDelivery(sent, tally.acked, 30_000);
    const row = deliveryRow('9 Redis full (16 MB)', system, sent, tally, 0, '');
    return {
      ...row,
      notes: `while full: ready ${whileFull.readyStatus} redis "${whileFull.readyRedis}", relay_redis_full ${whileFull.fullMetric}, logged ${whileFull.logged}; acked before full ${tally.acked.size}, delivered while full ${deliveredWhileFull}; accepts after CONFIG SET maxmemory ${after.acked.size === more.length}`,
      whileFull,
      deliveredWhileFull,
      storedAcked,
      acceptsAfterMoreMemory: after.acked.size === more.length,
    };
  } finally {
    await system.stop();
  }
}

export interface FailoverRow extends Row {
  minReplicasAck: number;
  /** From the first to the last 503 ingest answered, in ms. */
  unavailableMs: number;
  failedOver: boolean;
}

/** Why the Sentinel scenario cannot run here, or null when it can. */
export const sentinelMissing = (): string | null =>
  sentinelBinary()
    ? null
    : 'redis-sentinel is not installed: apt-get install redis-sentinel (Debian package redis-sentinel)';

/**
 * 10. Sentinel failover under load: a master, a replica and three sentinels; ingest and two
 * workers find the master through the sentinels; the master is SIGKILLed mid-load and comes back
 * later as a replica. With REDIS_MIN_REPLICAS_ACK=1 an acknowledged event is on the replica too.
 */
export async function sentinelFailover(scale: Scale, minReplicasAck: number): Promise<FailoverRow> {
  const name = 'relay';
  const master = await RedisServer.start();
  const replica = await RedisServer.start({ replicaOf: master.port });
  const sentinels: RedisSentinel[] = [];
  let system: RelaySystem | null = null;
  try {
    await waitFor(
      async () =>
        /master_link_status:up/.test(String(await replica.command('INFO', 'replication'))),
      10_000,
      'the replica to sync',
    );
    for (let i = 0; i < 3; i++) sentinels.push(await RedisSentinel.start(name, master.port, 2));
    const sentinelList = sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
    system = await RelaySystem.start({
      workers: 2,
      limits: FAST_LIMITS,
      redis: master,
      redisEnv: { REDIS_SENTINELS: sentinelList, REDIS_SENTINEL_NAME: name },
      queueConnection: {
        sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
        name,
      },
      ingestEnv: { REDIS_MIN_REPLICAS_ACK: String(minReplicasAck) },
    });
    const events = makeEvents(scale.failoverRate * scale.failoverSeconds);
    const tally = emptyTally();
    // Popbill resends an unacknowledged event; 8 tries 1.5 s apart outlast the failover.
    const sending = system.sendAll(events, tally, scale.failoverRate, 32, 1500);
    await sleep(1000);
    await master.kill();
    let failedOver = false;
    try {
      await waitFor(
        async () => (await sentinels[0].masterPort(name).catch(() => 0)) === replica.port,
        30_000,
        'the sentinels to promote the replica',
        100,
      );
      failedOver = true;
    } finally {
      // The old master returns, and the sentinels make it a replica of the new one.
      await master.restart();
    }
    await sending;
    await system.waitForDelivery(events, tally.acked, 60_000);
    const row = deliveryRow(
      `10 Sentinel failover, REDIS_MIN_REPLICAS_ACK=${minReplicasAck}`,
      system,
      events,
      tally,
      0,
      '',
    );
    const unavailableMs =
      tally.first503At === null ? 0 : (tally.last503At ?? tally.first503At) - tally.first503At;
    return {
      ...row,
      notes: `503 for ${unavailableMs} ms (first to last); failed over ${failedOver}; never acked ${tally.sent - tally.acked.size}`,
      minReplicasAck,
      unavailableMs,
      failedOver,
    };
  } finally {
    await system?.stop();
    for (const sentinel of sentinels) await sentinel.stop();
    await replica.stop();
    await master.stop();
  }
}

/** Prints straight to stdout: jest would otherwise wrap every console line. */
export function printTable(rows: Row[], out = new Console(process.stdout)): void {
  out.log('\nreliability:');
  out.table(
    rows.map((r) => ({
      scenario: r.scenario,
      sent: r.sent,
      'acked (200 OK)': r.acked,
      '503': r.answered503,
      delivered: r.delivered,
      lost: r.lost,
      duplicates: r.duplicates,
      '5xx': r.answered5xx,
      'peak RSS MB': r.peakRssMb,
    })),
  );
  for (const r of rows) out.log(`${r.scenario}: ${r.notes}`);
}
