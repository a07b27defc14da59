import { Logger } from '@nestjs/common';
import type { PopbillEventJob } from '@app/contracts';
import { fixtureJob } from '../../test/popbill-fixtures';
import type { WorkerConfig } from '../config/worker.config';
import { eventMarkKey, type DigestPool, type PoolState } from '../digest/digest-pool';
import { pooledPollMs, poolScore } from '../digest/digest-policy';
import type { JandiDigestSender } from '../digest/jandi-digest.sender';
import type { JandiMessage } from '../jandi/jandi-message';
import type { JandiSender, QuotaGrant, SendOptions, SendVerdict } from '../jandi/jandi.sender';
import { WorkerMetrics } from '../metrics/worker.metrics';
import type { OpsNotices } from '../ops/ops-notices';
import type {
  GrantStamp,
  JandiQuotaLimiter,
  QuotaDecision,
} from '../rate-limit/jandi-quota.limiter';
import { ShutdownSignal } from '../shutdown/shutdown.signal';
import type { LuaStep } from '../redis/lua-step';
import {
  JandiDeliveryService,
  type DeliveryContext,
  type DeliveryOutcome,
} from './jandi-delivery.service';

const URL = 'https://wh.jandi.com/connect-api/webhook/1/secret';
const PREFIX = '{relay}';
const LATENCY_TARGET_MS = 60_000;
const INLINE_WAIT_MS = 50;
const GRANT: QuotaGrant = { granted: true, now: 0, sendId: 'send-1', sendBy: 1e12 };
const refused = (waitMs: number): QuotaDecision => ({ granted: false, at: waitMs, now: 0, waitMs });
const EVENT = fixtureJob('taxinvoice-issue.json', { eventId: 'ev-1' });
const CTX = { jobId: 'job-1', attempt: 1 };
const delivered = eventMarkKey(PREFIX, 'delivered', 'ev-1');
const sending = eventMarkKey(PREFIX, 'sending', 'ev-1');

/** Redis as the flow's scripts leave it: the event marks and the jobs' log lines. */
class FakeMarks {
  readonly values = new Map<string, string>();
  readonly logs = new Map<string, string[]>();

  /** Does what the flow's step after a settle does (SENT in the service). */
  apply(step: LuaStep): void {
    const [sendMark, deliveredMark, , logKey] = step.keys;
    const [deliveredFlag, jobId, , line] = step.args;
    this.values.delete(sendMark);
    if (deliveredFlag === 1) this.values.set(deliveredMark, String(jobId));
    if (line && logKey) this.logs.set(logKey, [...(this.logs.get(logKey) ?? []), String(line)]);
  }
}

/**
 * Like the limiter, a grant sets the stamp it is given and tells what the stamp held before;
 * acquireAfter asks the pool what its inspection step would answer, and grants only on a go.
 */
class FakeLimiter implements Pick<
  JandiQuotaLimiter,
  'acquire' | 'acquireAfter' | 'release' | 'abandon'
> {
  released = 0;
  readonly abandoned: string[] = [];
  constructor(
    readonly decisions: QuotaDecision[],
    private readonly marks: FakeMarks,
    private readonly pool: FakePool,
  ) {}
  acquire(
    _url: string,
    member: string,
    _priority?: boolean,
    stamp?: GrantStamp,
  ): Promise<QuotaDecision> {
    const decision = this.decisions.shift() ?? GRANT;
    if (!decision.granted || !stamp) return Promise.resolve(decision);
    const stampedOver = this.marks.values.get(stamp.key) ?? null;
    this.marks.values.set(stamp.key, member);
    return Promise.resolve({ ...decision, stampedOver });
  }
  async acquireAfter(gate: LuaStep, url: string, member: string, stamp: GrantStamp) {
    const reply = this.pool.answer(gate);
    return {
      gate: reply,
      decision: reply[0] === 1 ? await this.acquire(url, member, false, stamp) : null,
    };
  }
  release(): Promise<void> {
    this.released++;
    return Promise.resolve();
  }
  abandon(_url: string, sendId: string): Promise<void> {
    this.abandoned.push(sendId);
    return Promise.resolve();
  }
}

/** Answers with a verdict and, like JandiSender, settles with the flow's step after it. */
class FakeSender implements Pick<JandiSender, 'send'> {
  readonly sent: { url: string; message: JandiMessage; destination: string }[] = [];
  constructor(
    private readonly verdict: SendVerdict,
    private readonly marks: FakeMarks,
  ) {}
  send(url: string, message: JandiMessage, _grant: QuotaGrant, options: SendOptions) {
    this.sent.push({ url, message, destination: options.destination });
    const report = { destination: options.destination, answer: 'HTTP 200', durationMs: 3 };
    const step = options.alongside?.(this.verdict.kind === 'delivered', report);
    if (step) this.marks.apply(step);
    return Promise.resolve({ verdict: this.verdict, report });
  }
}

/** Answers its inspection step as the script does: a delivered marker first, with its value. */
class FakePool implements Pick<DigestPool, 'inspection' | 'join'> {
  readonly joined: { jobId: string; eventId: string; score: number }[] = [];
  constructor(
    private readonly state: { state: PoolState; poolSize: number },
    private readonly marks: FakeMarks,
    private readonly accepts = true,
  ) {}
  inspection(_url: string, _jobId: string, eventId: string, pooling: boolean): LuaStep {
    return { name: 'fake', lua: '', keys: [eventId], args: [pooling ? 1 : 0] };
  }
  answer(step: LuaStep): unknown[] {
    const mark = this.marks.values.get(eventMarkKey(PREFIX, 'delivered', step.keys[0]));
    if (mark !== undefined) return [0, 'delivered', 0, mark];
    if (step.args[0] === 0) return [1, 'none', 0];
    const { state, poolSize } = this.state;
    const go = state === 'solo' || (state === 'none' && poolSize === 0);
    return [go ? 1 : 0, state, poolSize];
  }
  join(_url: string, jobId: string, eventId: string, score: number): Promise<boolean> {
    this.joined.push({ jobId, eventId, score });
    return Promise.resolve(this.accepts);
  }
}

class FakeDigests implements Pick<JandiDigestSender, 'nudge'> {
  readonly nudged: string[] = [];
  nudge(url: string): void {
    this.nudged.push(url);
  }
}

class FakeOps implements Pick<OpsNotices, 'delivered' | 'failed'> {
  readonly notices: string[] = [];
  delivered(destination: string): void {
    this.notices.push(`delivered ${destination}`);
  }
  failed(destination: string, reason: string): void {
    this.notices.push(`failed ${destination}: ${reason}`);
  }
}

interface Setup {
  verdict?: SendVerdict;
  decisions?: QuotaDecision[];
  digest?: boolean;
  pool?: { state: PoolState; poolSize: number };
  poolAccepts?: boolean;
  marks?: Record<string, string>;
  shuttingDown?: boolean;
  ctx?: DeliveryContext;
}

async function deliver(setup: Setup = {}, event: PopbillEventJob = EVENT) {
  const config: Pick<
    WorkerConfig,
    'routes' | 'destinations' | 'queuePrefix' | 'digest' | 'inlineWaitMs'
  > = {
    routes: [],
    destinations: { default: URL },
    queuePrefix: PREFIX,
    digest: { enabled: setup.digest ?? true, latencyTargetMs: LATENCY_TARGET_MS, maxEvents: 50 },
    inlineWaitMs: INLINE_WAIT_MS,
  };
  const marks = new FakeMarks();
  for (const [key, value] of Object.entries(setup.marks ?? {})) marks.values.set(key, value);
  const sender = new FakeSender(setup.verdict ?? { kind: 'delivered' }, marks);
  const pool = new FakePool(setup.pool ?? { state: 'none', poolSize: 0 }, marks, setup.poolAccepts);
  const limiter = new FakeLimiter(setup.decisions ?? [], marks, pool);
  const digests = new FakeDigests();
  const ops = new FakeOps();
  const metrics = new WorkerMetrics();
  const shutdown = new ShutdownSignal();
  if (setup.shuttingDown) shutdown.abort();
  const service = new JandiDeliveryService(
    config,
    limiter,
    sender,
    metrics,
    shutdown,
    pool,
    digests,
    ops,
  );
  const outcome: DeliveryOutcome = await service.deliver(event, setup.ctx ?? CTX);
  const counted = async (metric: 'duplicates' | 'quotaWait') => {
    const { name, values } = await metrics[metric].get();
    return values
      .map((v) => ({ ...v, metricName: ('metricName' in v && v.metricName) || name }))
      .filter((v) => v.value > 0 && !v.metricName.endsWith('_bucket'))
      .map((v) => `${v.metricName} ${JSON.stringify(v.labels)} ${v.value}`);
  };
  return { outcome, marks, limiter, sender, pool, digests, ops, counted };
}

describe('JandiDeliveryService.deliver', () => {
  beforeAll(() => Logger.overrideLogger(false));

  describe('an event delivered before', () => {
    it('completes quietly when a digest showed it', async () => {
      const run = await deliver({ marks: { [delivered]: 'digest:batch-1' } });
      expect(run.outcome).toEqual({ kind: 'delivered' });
      expect(run.sender.sent).toEqual([]);
      expect(await run.counted('duplicates')).toEqual([]);
    });

    it('is skipped and counted as a duplicate when its own message was delivered', async () => {
      const run = await deliver({ marks: { [delivered]: 'job-0' } });
      expect(run.outcome).toEqual({ kind: 'delivered' });
      expect(run.sender.sent).toEqual([]);
      expect(await run.counted('duplicates')).toEqual([
        'jandi_duplicates_total {"kind":"skipped"} 1',
      ]);
    });

    it('is skipped with digests off too', async () => {
      const run = await deliver({ digest: false, marks: { [delivered]: 'job-0' } });
      expect(run.outcome).toEqual({ kind: 'delivered' });
      expect(run.sender.sent).toEqual([]);
    });
  });

  describe('digest folding', () => {
    it.each<PoolState>(['pooled', 'claimed'])(
      'polls for the digest of a job already %s',
      async (state) => {
        const run = await deliver({ pool: { state, poolSize: 3 } });
        expect(run.outcome).toEqual({ kind: 'wait', delayMs: pooledPollMs(LATENCY_TARGET_MS) });
        expect(run.sender.sent).toEqual([]);
        expect(run.pool.joined).toEqual([]);
      },
    );

    it('joins a pool that is forming, failures ranked first, and wakes its sender', async () => {
      const failed = fixtureJob('taxinvoice-nts-failed.json', { eventId: 'ev-1' });
      const run = await deliver({ pool: { state: 'none', poolSize: 2 } }, failed);
      expect(run.outcome).toEqual({ kind: 'wait', delayMs: pooledPollMs(LATENCY_TARGET_MS) });
      expect(run.pool.joined).toEqual([
        { jobId: 'job-1', eventId: 'ev-1', score: poolScore(true, Date.parse(failed.receivedAt)) },
      ]);
      expect(run.digests.nudged).toEqual([URL]);
      expect(run.sender.sent).toEqual([]);
    });

    it('completes when the event was delivered while it joined', async () => {
      const run = await deliver({ pool: { state: 'none', poolSize: 2 }, poolAccepts: false });
      expect(run.outcome).toEqual({ kind: 'delivered' });
      expect(run.digests.nudged).toEqual([]);
    });

    it('gives its slot back and joins the pool when the slot is beyond the latency target', async () => {
      const run = await deliver({ decisions: [refused(LATENCY_TARGET_MS + 1)] });
      expect(run.limiter.released).toBe(1);
      expect(run.pool.joined).toHaveLength(1);
      expect(run.outcome).toEqual({ kind: 'wait', delayMs: pooledPollMs(LATENCY_TARGET_MS) });
    });

    it('never pools a job marked solo: it waits for its own slot', async () => {
      const wait = LATENCY_TARGET_MS + 1;
      const run = await deliver({
        pool: { state: 'solo', poolSize: 5 },
        decisions: [refused(wait)],
      });
      expect(run.pool.joined).toEqual([]);
      expect(run.outcome).toEqual({ kind: 'wait', delayMs: wait });
    });

    it('never pools with digests off', async () => {
      const run = await deliver({ digest: false, decisions: [refused(LATENCY_TARGET_MS + 1)] });
      expect(run.pool.joined).toEqual([]);
      expect(run.outcome).toEqual({ kind: 'wait', delayMs: LATENCY_TARGET_MS + 1 });
    });
  });

  describe('waiting for quota', () => {
    it('re-queues a job whose slot is further than the inline wait, counting the wait', async () => {
      const run = await deliver({ decisions: [refused(5000)] });
      expect(run.outcome).toEqual({ kind: 'wait', delayMs: 5000 });
      expect(run.sender.sent).toEqual([]);
      expect(await run.counted('quotaWait')).toEqual([
        'jandi_quota_wait_seconds_sum {"destination":"default"} 5',
        'jandi_quota_wait_seconds_count {"destination":"default"} 1',
      ]);
    });

    it('waits in-process for a slot within the inline wait, then sends', async () => {
      const run = await deliver({ decisions: [refused(INLINE_WAIT_MS)] });
      expect(run.sender.sent).toHaveLength(1);
      expect(run.outcome.kind).toBe('delivered');
    });

    it('re-queues instead of waiting in-process once shutdown has begun', async () => {
      const run = await deliver({ decisions: [refused(10)], shuttingDown: true });
      expect(run.outcome).toEqual({ kind: 'wait', delayMs: 10 });
      expect(run.sender.sent).toEqual([]);
    });
  });

  describe('each verdict of the send', () => {
    it('delivered: marks the event delivered, clears the send marker, tells the ops notices', async () => {
      const run = await deliver({ verdict: { kind: 'delivered' } });
      expect(run.outcome).toMatchObject({
        kind: 'delivered',
        sent: { destination: 'default', answer: 'HTTP 200', durationMs: 3 },
      });
      expect(run.sender.sent).toEqual([
        { url: URL, message: expect.any(Object), destination: 'default' },
      ]);
      expect(run.marks.values.get(delivered)).toBe('job-1');
      expect(run.marks.values.has(sending)).toBe(false);
      expect(run.ops.notices).toEqual(['delivered default']);
    });

    it("delivered: writes the attempt's line to the job's log with the marks", async () => {
      const jobKeys = { job: '{relay}:q:job-1', log: '{relay}:q:job-1:logs' };
      const run = await deliver({ ctx: { ...CTX, jobKeys } });
      expect(run.outcome).toMatchObject({ kind: 'delivered', logged: true });
      expect(run.marks.logs.get(jobKeys.log)).toEqual([
        expect.stringMatching(
          /^attempt 1 → default: HTTP 200 in 3 ms, quota wait \d+ ms → delivered$/,
        ),
      ]);
    });

    it('retry: backs off with the reason, leaving the event unmarked', async () => {
      const run = await deliver({ verdict: { kind: 'retry', reason: 'HTTP 503' } });
      expect(run.outcome).toMatchObject({ kind: 'retry', reason: 'JANDI failed: HTTP 503' });
      expect(run.marks.values.has(delivered)).toBe(false);
      expect(run.marks.values.has(sending)).toBe(false);
      expect(run.ops.notices).toEqual(['failed default: HTTP 503']);
    });

    it('dead: rejects for good with JANDI words', async () => {
      const reason = 'HTTP 400 code 40000 "invalid token"';
      const run = await deliver({ verdict: { kind: 'dead', reason } });
      expect(run.outcome).toMatchObject({ kind: 'rejected', reason: `JANDI rejected: ${reason}` });
      expect(run.ops.notices).toEqual([`failed default: ${reason}`]);
    });

    it.each([
      [GRANT, 0, [GRANT.sendId]],
      [refused(7000), 7000, []],
    ])('cooldown: waits for the next slot, not an attempt', async (next, delayMs, abandoned) => {
      const run = await deliver({
        decisions: [GRANT, next],
        verdict: { kind: 'cooldown', reason: 'HTTP 429', coolMs: 7000 },
      });
      expect(run.outcome).toMatchObject({
        kind: 'wait',
        delayMs,
        decision: 'cooldown 7000 ms, not an attempt',
      });
      // A grant the job will not use now must not hold a slot until its deadline.
      expect(run.limiter.abandoned).toEqual(abandoned);
      expect(run.ops.notices).toEqual([]);
    });

    it.each<[SendVerdict, string]>([
      [{ kind: 'expired' }, 'expired grant: runs again now'],
      [{ kind: 'interrupted' }, 'interrupted: runs again on a worker'],
    ])('%o: runs again at once', async (verdict, decision) => {
      const run = await deliver({ verdict });
      expect(run.outcome).toMatchObject({ kind: 'wait', delayMs: 0, decision });
      expect(run.ops.notices).toEqual([]);
    });
  });

  it('counts a possible duplicate when an earlier send of the event got no answer', async () => {
    const run = await deliver({ marks: { [sending]: 'job-0' } });
    expect(run.outcome.kind).toBe('delivered');
    expect(await run.counted('duplicates')).toEqual([
      'jandi_duplicates_total {"kind":"possible"} 1',
    ]);
  });
});
