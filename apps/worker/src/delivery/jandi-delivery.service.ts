import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { PopbillEventJob } from '@app/contracts';
import {
  DELIVERED_MARK_SECONDS,
  DIGEST_MARK_PREFIX,
  DigestPool,
  eventMarkKey,
  readInspection,
} from '../digest/digest-pool';
import { pooledPollMs, poolScore, shouldPool } from '../digest/digest-policy';
import { WorkerMetrics } from '../metrics/worker.metrics';
import { JandiQuotaLimiter } from '../rate-limit/jandi-quota.limiter';
import type { LuaStep } from '../redis/lua-step';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';
import { attemptLine, type SendReport } from './attempt-log';
import { JandiDigestSender } from '../digest/jandi-digest.sender';
import { JandiSender } from '../jandi/jandi.sender';
import { OpsNotices } from '../ops/ops-notices';
import { compileRoutes } from './routing';
import { ShutdownSignal } from '../shutdown/shutdown.signal';
import { describeEvent } from '../popbill/describe-event';
import { toJandiMessage } from '../rendering/to-jandi-message';

/**
 * `sent`: what the request to JANDI did, when one was made; `decision` words the wait; `logged`:
 * the job's log already has the attempt's line.
 */
export type DeliveryOutcome =
  | { kind: 'delivered'; sent?: SendReport; logged?: boolean }
  /** Not now: come back after delayMs without burning an attempt. */
  | { kind: 'wait'; delayMs: number; sent?: SendReport; decision?: string }
  /** Permanent: dead-letter with this reason. */
  | { kind: 'rejected'; reason: string; sent: SendReport }
  /** Transient: retry with backoff. */
  | { kind: 'retry'; reason: string; sent: SendReport };

/*
 * A step after the quota's settle (LuaStep). SK: send marker, delivered marker, BullMQ's job key
 * and its log list (when known). SA: delivered 0/1, job id, marker ttl s, log line or ''.
 * The line is added as BullMQ's Job.log adds it, only while the job exists.
 */
const SENT = `
redis.call('DEL', SK[1])
if SA[1] == '1' then redis.call('SET', SK[2], SA[2], 'EX', SA[3]) end
if SA[4] ~= '' and redis.call('EXISTS', SK[3]) == 1 then redis.call('RPUSH', SK[4], SA[4]) end
`;

export interface DeliveryContext {
  jobId: string;
  attempt: number;
  /** BullMQ's keys of the job and of its log: a delivery's line is written with its marks. */
  jobKeys?: { job: string; log: string };
}

/**
 * Delivers one event: route, wait for quota, render, POST, classify. When the destination's
 * backlog outgrows the latency target, the event joins the destination's digest pool instead and
 * its job completes once a digest showing it is accepted (JandiDigestSender).
 */
@Injectable()
export class JandiDeliveryService {
  private readonly logger = new Logger(JandiDeliveryService.name);
  private readonly route: ReturnType<typeof compileRoutes>;

  constructor(
    @Inject(WORKER_CONFIG)
    private readonly config: Pick<
      WorkerConfig,
      'routes' | 'destinations' | 'queuePrefix' | 'digest' | 'inlineWaitMs'
    >,
    @Inject(JandiQuotaLimiter)
    private readonly limiter: Pick<
      JandiQuotaLimiter,
      'acquire' | 'acquireAfter' | 'release' | 'abandon'
    >,
    @Inject(JandiSender) private readonly sender: Pick<JandiSender, 'send'>,
    private readonly metrics: WorkerMetrics,
    @Inject(ShutdownSignal) private readonly shutdown: Pick<ShutdownSignal, 'signal'>,
    @Inject(DigestPool) private readonly pool: Pick<DigestPool, 'inspection' | 'join'>,
    @Inject(JandiDigestSender) private readonly digests: Pick<JandiDigestSender, 'nudge'>,
    @Inject(OpsNotices) private readonly opsNotices: Pick<OpsNotices, 'delivered' | 'failed'>,
  ) {
    this.route = compileRoutes(config.routes);
  }

  private markKey(kind: 'delivered' | 'sending', eventId: string): string {
    return eventMarkKey(this.config.queuePrefix, kind, eventId);
  }

  private pooled(): DeliveryOutcome {
    return { kind: 'wait', delayMs: pooledPollMs(this.config.digest.latencyTargetMs) };
  }

  /** Puts the event in its destination's digest pool, failures ahead of everything else. */
  private async joinPool(
    event: PopbillEventJob,
    ctx: DeliveryContext,
    url: string,
    log: object,
  ): Promise<DeliveryOutcome> {
    const receivedAt = Date.parse(event.receivedAt);
    const failure = describeEvent(event).outcome === 'failure';
    const score = poolScore(failure, Number.isFinite(receivedAt) ? receivedAt : Date.now());
    if (!(await this.pool.join(url, ctx.jobId, event.eventId, score))) return { kind: 'delivered' };
    this.digests.nudge(url);
    this.logger.debug({ ...log, outcome: 'pooled' });
    return this.pooled();
  }

  private sentStep(
    event: PopbillEventJob,
    ctx: DeliveryContext,
    delivered: boolean,
    sent: SendReport,
  ): LuaStep {
    const line = delivered && ctx.jobKeys ? attemptLine(ctx.attempt, sent, 'delivered') : '';
    return {
      name: 'relaySent',
      lua: SENT,
      keys: [
        this.markKey('sending', event.eventId),
        this.markKey('delivered', event.eventId),
        ...(ctx.jobKeys ? [ctx.jobKeys.job, ctx.jobKeys.log] : []),
      ],
      args: [delivered ? 1 : 0, ctx.jobId, DELIVERED_MARK_SECONDS, line],
    };
  }

  async deliver(event: PopbillEventJob, ctx: DeliveryContext): Promise<DeliveryOutcome> {
    const destination = this.route(event);
    const url = this.config.destinations[destination];
    const log = { eventId: event.eventId, jobId: ctx.jobId, attempt: ctx.attempt, destination };

    // Rendered before the grant: the time between a grant and its request is the quota's risk.
    const message = toJandiMessage(event);
    const waitStarted = performance.now();
    // One round trip: the pool's inspection (or the delivered marker alone), then a grant that
    // marks the event as being sent.
    const sending = { key: this.markKey('sending', event.eventId), seconds: 86_400 };
    const pooling = this.config.digest.enabled;
    const start = await this.limiter.acquireAfter(
      this.pool.inspection(url, ctx.jobId, event.eventId, pooling),
      url,
      ctx.jobId,
      sending,
    );
    const { state, poolSize, mark } = readInspection(start.gate);
    if (mark?.startsWith(DIGEST_MARK_PREFIX)) return { kind: 'delivered' };
    if (mark !== undefined) {
      this.metrics.duplicates.inc({ kind: 'skipped' });
      this.logger.warn({ ...log, outcome: 'duplicate-skipped' }, 'event already delivered');
      return { kind: 'delivered' };
    }
    if (state === 'pooled' || state === 'claimed') return this.pooled();
    let decision = start.decision;
    // The gate stops a grant for an event that joins a forming pool.
    if (!decision) {
      if (shouldPool(this.config.digest, poolSize, null))
        return this.joinPool(event, ctx, url, log);
      throw new Error(`pool inspection stopped a grant in state ${state}`);
    }
    const mayPool = pooling && state !== 'solo';
    while (!decision.granted) {
      if (mayPool && shouldPool(this.config.digest, 0, decision.waitMs)) {
        await this.limiter.release(url, ctx.jobId);
        return this.joinPool(event, ctx, url, log);
      }
      this.metrics.quotaWait.observe({ destination }, decision.waitMs / 1000);
      if (decision.waitMs > this.config.inlineWaitMs || this.shutdown.signal.aborted) {
        this.logger.debug({ ...log, outcome: 'quota-wait', waitMs: decision.waitMs });
        return { kind: 'wait', delayMs: decision.waitMs };
      }
      await sleep(decision.waitMs, undefined, { signal: this.shutdown.signal }).catch(
        () => undefined,
      );
      decision = await this.limiter.acquire(url, ctx.jobId, false, sending);
    }

    if (decision.stampedOver) {
      this.metrics.duplicates.inc({ kind: 'possible' });
      this.logger.warn(
        { ...log, outcome: 'possible-duplicate' },
        'a previous send of this event ended without an answer',
      );
    }
    const quotaWaitMs = performance.now() - waitStarted;
    const { verdict, report } = await this.sender.send(url, message, decision, {
      destination,
      what: 'message',
      log,
      abort: this.shutdown.signal,
      // In the quota's settle: the send marker goes, a delivery is marked and logged.
      alongside: (delivered, answer) =>
        this.sentStep(event, ctx, delivered, { ...answer, quotaWaitMs }),
    });
    const sent: SendReport = { ...report, quotaWaitMs };

    switch (verdict.kind) {
      case 'expired':
        return { kind: 'wait', delayMs: 0, sent, decision: 'expired grant: runs again now' };
      case 'interrupted':
        return { kind: 'wait', delayMs: 0, sent, decision: 'interrupted: runs again on a worker' };
      case 'delivered': {
        const lag = (Date.now() - Date.parse(event.receivedAt)) / 1000;
        if (Number.isFinite(lag))
          this.metrics.endToEndLag.observe({ destination }, Math.max(0, lag));
        this.opsNotices.delivered(destination);
        return { kind: 'delivered', sent, logged: ctx.jobKeys !== undefined };
      }
      case 'cooldown': {
        // Reserves the first slot after the cooldown; one granted already is not used here.
        const next = await this.limiter.acquire(url, ctx.jobId);
        if (next.granted) await this.limiter.abandon(url, next.sendId);
        return {
          kind: 'wait',
          delayMs: next.granted ? 0 : next.waitMs,
          sent,
          decision: `cooldown ${verdict.coolMs} ms, not an attempt`,
        };
      }
      case 'dead':
        this.opsNotices.failed(destination, verdict.reason);
        return { kind: 'rejected', reason: `JANDI rejected: ${verdict.reason}`, sent };
      case 'retry':
        this.opsNotices.failed(destination, verdict.reason);
        return { kind: 'retry', reason: `JANDI failed: ${verdict.reason}`, sent };
    }
  }
}
