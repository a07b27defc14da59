import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { PopbillEventJob } from '@app/contracts';
import type Redis from 'ioredis';
import {
  DELIVERED_MARK_SECONDS,
  DIGEST_MARK_PREFIX,
  DigestPool,
  eventMarkKey,
} from '../digest/digest-pool';
import { pooledPollMs, poolScore, shouldPool } from '../digest/digest-policy';
import { WorkerMetrics } from '../metrics/worker.metrics';
import { JandiQuotaLimiter, type QuotaDecision } from '../rate-limit/jandi-quota.limiter';
import { WORKER_REDIS } from '../redis/redis.module';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';
import { type SendReport } from './attempt-log';
import { JandiDigestSender } from '../digest/jandi-digest.sender';
import { JandiSender } from '../jandi/jandi.sender';
import { OpsNotices } from '../ops/ops-notices';
import { compileRoutes } from './routing';
import { ShutdownSignal } from '../shutdown/shutdown.signal';
import { describeEvent } from '../popbill/describe-event';
import { toJandiMessage } from '../rendering/to-jandi-message';

/** `sent`: what the request to JANDI did, when one was made; `decision` words the wait. */
export type DeliveryOutcome =
  | { kind: 'delivered'; sent?: SendReport }
  /** Not now: come back after delayMs without burning an attempt. */
  | { kind: 'wait'; delayMs: number; sent?: SendReport; decision?: string }
  /** Permanent: dead-letter with this reason. */
  | { kind: 'rejected'; reason: string; sent: SendReport }
  /** Transient: retry with backoff. */
  | { kind: 'retry'; reason: string; sent: SendReport };

/* KEYS: send marker, delivered marker. ARGV: job id, delivered marker ttl s. JANDI took it. */
const MARK_DELIVERED = `
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
`;

type MarkRedis = Redis & {
  relayMarkDelivered(
    sending: string,
    delivered: string,
    jobId: string,
    seconds: number,
  ): Promise<unknown>;
};

export interface DeliveryContext {
  jobId: string;
  attempt: number;
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
    @Inject(WORKER_REDIS) private readonly redis: Pick<Redis, 'get' | 'del' | 'defineCommand'>,
    @Inject(JandiQuotaLimiter)
    private readonly limiter: Pick<JandiQuotaLimiter, 'acquire' | 'release' | 'abandon'>,
    @Inject(JandiSender) private readonly sender: Pick<JandiSender, 'send'>,
    private readonly metrics: WorkerMetrics,
    @Inject(ShutdownSignal) private readonly shutdown: Pick<ShutdownSignal, 'signal'>,
    @Inject(DigestPool) private readonly pool: Pick<DigestPool, 'inspect' | 'join'>,
    @Inject(JandiDigestSender) private readonly digests: Pick<JandiDigestSender, 'nudge'>,
    @Inject(OpsNotices) private readonly opsNotices: Pick<OpsNotices, 'delivered' | 'failed'>,
  ) {
    this.route = compileRoutes(config.routes);
    if (!('relayMarkDelivered' in redis))
      redis.defineCommand('relayMarkDelivered', { numberOfKeys: 2, lua: MARK_DELIVERED });
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

  async deliver(event: PopbillEventJob, ctx: DeliveryContext): Promise<DeliveryOutcome> {
    const destination = this.route(event);
    const url = this.config.destinations[destination];
    const log = { eventId: event.eventId, jobId: ctx.jobId, attempt: ctx.attempt, destination };

    // One command: with digests on, the pool's inspection reads the delivered marker too.
    const inspected = this.config.digest.enabled
      ? await this.pool.inspect(url, ctx.jobId, event.eventId)
      : null;
    const mark = inspected
      ? (inspected.mark ?? null)
      : await this.redis.get(this.markKey('delivered', event.eventId));
    if (mark?.startsWith(DIGEST_MARK_PREFIX)) return { kind: 'delivered' };
    if (mark !== null) {
      this.metrics.duplicates.inc({ kind: 'skipped' });
      this.logger.warn({ ...log, outcome: 'duplicate-skipped' }, 'event already delivered');
      return { kind: 'delivered' };
    }

    let mayPool = inspected !== null;
    if (inspected) {
      const { state, poolSize } = inspected;
      if (state === 'delivered') return { kind: 'delivered' };
      if (state === 'pooled' || state === 'claimed') return this.pooled();
      if (state === 'solo') mayPool = false;
      else if (shouldPool(this.config.digest, poolSize, null))
        return this.joinPool(event, ctx, url, log);
    }

    // Rendered before the grant: the time between a grant and its request is the quota's risk.
    const message = toJandiMessage(event);
    const waitStarted = performance.now();
    // A grant marks the event as being sent in the same step: no round trip between the two.
    const sending = { key: this.markKey('sending', event.eventId), seconds: 86_400 };
    let decision: QuotaDecision = await this.limiter.acquire(url, ctx.jobId, false, sending);
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
    const sendStarted = performance.now();
    const { verdict, report } = await this.sender.send(url, message, decision, {
      destination,
      what: 'message',
      log,
      abort: this.shutdown.signal,
      // Sent together: the quota learns the fate, the send marker goes, a delivery is marked
      // (both marks in one command: each command costs the worker more CPU than Redis).
      alongside: (delivered) =>
        delivered
          ? (this.redis as MarkRedis).relayMarkDelivered(
              this.markKey('sending', event.eventId),
              this.markKey('delivered', event.eventId),
              ctx.jobId,
              DELIVERED_MARK_SECONDS,
            )
          : this.redis.del(this.markKey('sending', event.eventId)),
    });
    const sent: SendReport = { ...report, quotaWaitMs: sendStarted - waitStarted };

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
        return { kind: 'delivered', sent };
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
