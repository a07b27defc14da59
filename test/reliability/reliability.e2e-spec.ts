/**
 * The promise, proven with real processes: an acknowledged event reaches JANDI, and nothing a
 * stranger sends breaks the service or gets in. CI runs CI_SCALE; `npm run test:reliability`
 * runs FULL_SCALE. Ends with the figures table.
 */
import {
  access,
  CI_SCALE,
  FULL_SCALE,
  hostileInput,
  jandiOutage,
  load,
  printTable,
  redisFull,
  redisKilled,
  Row,
  sentinelFailover,
  sentinelMissing,
  shutdownWithoutRedis,
  startBeforeRedis,
  workersKilled,
} from './scenarios';

const scale = process.env.RELIABILITY_SCALE === 'full' ? FULL_SCALE : CI_SCALE;
const rows: Row[] = [];

jest.setTimeout(scale === FULL_SCALE ? 600_000 : 180_000);

describe(`reliability (${process.env.RELIABILITY_SCALE === 'full' ? 'full' : 'CI'} scale)`, () => {
  afterAll(() => printTable(rows));

  it('1. Redis killed mid-load: 503 while down, recovers by itself, no acked event lost', async () => {
    const row = await redisKilled(scale);
    rows.push(row);
    expect(row.answered503).toBeGreaterThan(0);
    expect(row.acked).toBe(row.sent);
    expect(row.answered5xx).toBe(0);
    expect(row.lost).toBe(0);
  });

  it('2. two of three workers SIGKILLed mid-backlog: nothing lost, few duplicates', async () => {
    const row = await workersKilled(scale);
    rows.push(row);
    expect(row.lost).toBe(0);
    expect(row.delivered).toBe(row.acked);
    // At most what the two killed workers had in flight.
    expect(row.duplicates).toBeLessThanOrEqual(32);
    expect(row.http429).toBe(0);
  });

  it('3. JANDI outage: nothing lost or dead-lettered, drains within quota with no 429', async () => {
    const row = await jandiOutage(scale);
    rows.push(row);
    expect(row.lost).toBe(0);
    expect(row.delivered).toBe(row.acked);
    expect(row.deadLettered).toBe(0);
    expect(row.http429).toBe(0);
  });

  it('4. hostile input: only 4xx, nothing stored, alive, RSS flat; no event changes another', async () => {
    const row = await hostileInput(scale);
    rows.push(row);
    expect(row.sent).toBeGreaterThanOrEqual(10_000);
    expect(row.answered5xx).toBe(0);
    expect(row.malformedAcked).toBe(0);
    expect(row.malformedEnqueued).toBe(0);
    expect(row.acked).toBe(row.events);
    expect(row.delivered).toBe(row.events);
    expect(row.lost).toBe(0);
    expect(row.duplicates).toBe(0);
    expect(row.resendsDeduped).toBe(true);
    expect(row.non4xx).toBe(0);
    expect(row.alive).toBe(true);
    expect(row.rssEndMb - row.rssStartMb).toBeLessThan(64);
  });

  it('5. access: wrong credentials and sources refused, no secret in any log', async () => {
    const row = await access();
    rows.push(row);
    for (const [what, status] of Object.entries(row.refused)) {
      expect(`${what}: ${status}`).toMatch(/: 40[13]$/);
    }
    expect(row.secretsInLogs).toBe(0);
    expect(row.lost).toBe(0);
  });

  it('6. sustained load with 1 % duplicates: no errors', async () => {
    const row = await load(scale);
    rows.push(row);
    expect(row.errors).toBe(0);
    expect(row.answered5xx).toBe(0);
    expect(row.acked).toBe(row.sent);
  });

  it('7. SIGTERM with Redis gone: every app exits within its bound; abandoned jobs return as stalled', async () => {
    const row = await shutdownWithoutRedis();
    rows.push(row);
    // A process still running after grace + a generous margin is the failure.
    expect(row.exits.ingest).toBe(0);
    expect(row.exits.worker).toBe(1);
    expect(row.abandoned.length).toBeGreaterThan(0);
    expect(row.recoveredAsStalled).toBe(row.abandoned.length);
    expect(row.lost).toBe(0);
    expect(row.delivered).toBe(row.acked);
  });

  it('8. started before Redis: not ready and 503 meanwhile, ready once it is up, no restart', async () => {
    const row = await startBeforeRedis();
    rows.push(row);
    expect(row.before).toEqual({ ingestReady: 503, workerReady: 503, webhook: 503, redisUp: 0 });
    expect(row.after).toEqual({ ingestReady: 200, workerReady: 200, redisUp: 1 });
    expect(row.restarts).toBe(0);
    expect(row.unstructuredErrors).toBe(0);
    expect(row.lost).toBe(0);
    expect(row.delivered).toBe(row.acked);
  });

  it('9. Redis full: 503 with the reason shown, nothing acked lost, the worker drains', async () => {
    const row = await redisFull();
    rows.push(row);
    expect(row.answered503).toBeGreaterThan(0);
    expect(row.whileFull).toEqual({
      readyStatus: 503,
      readyRedis: 'full',
      fullMetric: 1,
      logged: true,
    });
    expect(row.acked).toBeGreaterThan(0);
    expect(row.deliveredWhileFull).toBeGreaterThan(0);
    expect(row.lost).toBe(0);
    expect(row.delivered).toBe(row.acked);
    expect(row.answered5xx).toBe(0);
    expect(row.acceptsAfterMoreMemory).toBe(true);
  });

  const missing = sentinelMissing();
  const sentinelIt = missing ? it.skip : it;
  if (missing) console.warn(`reliability 10 skipped: ${missing}`);

  sentinelIt(
    '10a. Sentinel failover under load: nothing acked lost, duplicates counted',
    async () => {
      const row = await sentinelFailover(scale, 0);
      rows.push(row);
      expect(row.failedOver).toBe(true);
      expect(row.answered5xx).toBe(0);
      // Asynchronous replication: an event acked just before the kill may be lost (see 10b).
      expect(row.delivered + row.lost).toBe(row.acked);
    },
  );

  sentinelIt('10b. Sentinel failover with REDIS_MIN_REPLICAS_ACK=1: 0 lost', async () => {
    const row = await sentinelFailover(scale, 1);
    rows.push(row);
    expect(row.failedOver).toBe(true);
    expect(row.answered5xx).toBe(0);
    expect(row.lost).toBe(0);
    // Events stored while too few replicas confirmed were answered 503, yet are delivered.
    expect(row.delivered).toBeGreaterThanOrEqual(row.acked);
  });
});
