import { Inject, Injectable, Logger } from '@nestjs/common';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';
import { WorkerMetrics } from '../metrics/worker.metrics';
import { JandiQuotaLimiter, type QuotaDecision } from '../rate-limit/jandi-quota.limiter';
import { classifyJandiResponse, describeAnswer } from './classify-jandi-response';
import { JandiClient, requestFate } from './jandi.client';
import type { JandiMessage } from './jandi-message';
import type { LuaStep } from '../redis/lua-step';

/** A granted quota slot: the request must leave by `sendBy`. */
export type QuotaGrant = Extract<QuotaDecision, { granted: true }>;

/** What one request to JANDI means for what was sent. */
export type SendVerdict =
  | { kind: 'delivered' }
  /** JANDI or the network is unwell: try again with backoff. */
  | { kind: 'retry'; reason: string }
  /** JANDI's rate limit: the quota already cools down for coolMs; not an attempt. */
  | { kind: 'cooldown'; reason: string; coolMs: number }
  /** JANDI refused it for good: no retry can help. */
  | { kind: 'dead'; reason: string }
  /** The grant ran out before the request could leave: nothing was sent. */
  | { kind: 'expired' }
  /** Our own shutdown cut the request short. */
  | { kind: 'interrupted' };

/** What the send did, for the attempt log. Never holds the URL. */
export interface SendAnswer {
  destination: string;
  /** JANDI's answer in words, or why there was none. */
  answer: string;
  durationMs: number;
}

export interface SendOptions {
  destination: string;
  /** What is sent, in the logs: "message", "digest", "ops notice". */
  what: string;
  /** Fields every log line of this send carries. */
  log: object;
  abort: AbortSignal;
  /** A step run in the same script as settling the quota slot, told what JANDI answered. */
  alongside?: (delivered: boolean, answer: SendAnswer) => LuaStep;
}

/**
 * The one send to JANDI: posts within the grant, settles the quota slot, records
 * jandi_deliveries_total and the request's duration, cools the quota down on a rate limit, logs,
 * and returns what the answer means. Callers only map the verdict.
 */
@Injectable()
export class JandiSender {
  private readonly logger = new Logger(JandiSender.name);

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: Pick<WorkerConfig, 'cooldownMs'>,
    @Inject(JandiQuotaLimiter)
    private readonly limiter: Pick<JandiQuotaLimiter, 'finish' | 'coolDown' | 'leftLate'>,
    @Inject(JandiClient) private readonly client: Pick<JandiClient, 'post'>,
    private readonly metrics: WorkerMetrics,
  ) {}

  async send(
    url: string,
    message: JandiMessage,
    grant: QuotaGrant,
    options: SendOptions,
  ): Promise<{ verdict: SendVerdict; report: SendAnswer }> {
    const { destination, what } = options;
    const started = performance.now();
    let recounted: Promise<void> = Promise.resolve();
    const response = await this.client.post(url, message, grant.sendBy, options.abort, (lateMs) => {
      recounted = this.limiter.leftLate(url, grant.sendId);
      // Awaited below, once the answer is in; a failure must not go unhandled meanwhile.
      void recounted.catch(() => undefined);
      this.logger.warn(
        { ...options.log, lateMs: Math.round(lateMs) },
        `${what} left ${Math.round(lateMs)} ms after its quota slot's deadline (worker frozen mid-write); counted from now`,
      );
    });
    await recounted;
    const durationMs = performance.now() - started;
    const classified =
      response.kind === 'expired' || response.kind === 'aborted'
        ? null
        : classifyJandiResponse(response);
    const report = { destination, answer: describeAnswer(response), durationMs };
    await this.limiter.finish(
      url,
      grant.sendId,
      requestFate(response),
      options.alongside?.(classified?.outcome === 'delivered', report),
    );
    this.metrics.deliveryDuration.observe({ destination }, durationMs / 1000);
    const log = options.log;

    if (response.kind === 'expired') {
      this.metrics.deliveries.inc({ destination, outcome: 'expired' });
      this.logger.warn(
        { ...log, outcome: 'expired' },
        `quota slot ran out before the ${what} could leave (worker paused or overloaded); not sent`,
      );
      return { verdict: { kind: 'expired' }, report };
    }
    if (!classified) {
      this.metrics.deliveries.inc({ destination, outcome: 'interrupted' });
      this.logger.warn({ ...log, outcome: 'interrupted' }, `${what} interrupted by shutdown`);
      return { verdict: { kind: 'interrupted' }, report };
    }
    switch (classified.outcome) {
      case 'delivered':
        this.metrics.deliveries.inc({ destination, outcome: 'delivered' });
        this.logger.log({ ...log, outcome: 'delivered' }, `${what} delivered to JANDI`);
        return { verdict: { kind: 'delivered' }, report };
      case 'rate-limited': {
        const coolMs = classified.retryAfterMs ?? this.config.cooldownMs;
        await this.limiter.coolDown(url, coolMs);
        this.metrics.deliveries.inc({ destination, outcome: 'rate_limited' });
        this.logger.warn(
          { ...log, outcome: 'rate-limited', reason: classified.reason, coolMs },
          `JANDI rate limit hit by a ${what}; cooling down`,
        );
        return { verdict: { kind: 'cooldown', reason: classified.reason, coolMs }, report };
      }
      case 'rejected':
        this.metrics.deliveries.inc({ destination, outcome: 'rejected' });
        this.logger.warn(
          { ...log, outcome: 'rejected', reason: classified.reason },
          `JANDI rejected the ${what}`,
        );
        return { verdict: { kind: 'dead', reason: classified.reason }, report };
      case 'failed':
        this.metrics.deliveries.inc({ destination, outcome: 'failed' });
        this.logger.warn(
          { ...log, outcome: 'failed', reason: classified.reason },
          `JANDI ${what} delivery failed`,
        );
        return { verdict: { kind: 'retry', reason: classified.reason }, report };
    }
  }
}
