import { Injectable } from '@nestjs/common';
import { MODELLED_WEBHOOK_TYPES } from '@app/contracts';
import { redisHealthMetrics } from '@app/redis';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const REJECT_REASONS = [
  'unauthorized',
  'forbidden_source',
  'unsupported_media_type',
  'invalid_json',
  'forbidden_key',
  'body_too_large',
  'not_an_object',
  'too_deep',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

const KNOWN_TYPES = new Set<string>(MODELLED_WEBHOOK_TYPES);

/** Header values are attacker-controlled, so only known types get their own label value. */
export const typeLabel = (webhookType: string | undefined) =>
  webhookType && KNOWN_TYPES.has(webhookType) ? webhookType : 'other';

@Injectable()
export class IngestMetrics {
  readonly registry = new Registry();
  readonly redis = redisHealthMetrics(this.registry, 'ingest');

  readonly received = new Counter({
    name: 'popbill_webhooks_received_total',
    help: 'Webhook requests that reached POST /webhooks/popbill',
    registers: [this.registry],
  });
  readonly accepted = new Counter({
    name: 'popbill_webhooks_accepted_total',
    help: 'Webhooks stored as a new job and acknowledged',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly duplicate = new Counter({
    name: 'popbill_webhooks_duplicate_total',
    help: 'Re-sent webhooks acknowledged without a second job',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly revived = new Counter({
    name: 'popbill_webhooks_revived_total',
    help: 'Re-sent webhooks whose dead-lettered job was put back to work',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly flagged = new Counter({
    name: 'popbill_webhooks_flagged_total',
    help: 'Accepted webhooks that depart from the spec, by flag (schema:<field>:<problem>, corpnum-mismatch, ...)',
    labelNames: ['flag'],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'popbill_webhooks_rejected_total',
    help: 'Webhook requests answered 4xx, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly unavailable = new Counter({
    name: 'popbill_webhooks_unavailable_total',
    help: 'Webhooks answered 503 because Redis did not store them in time (Popbill resends)',
    registers: [this.registry],
  });
  readonly enqueueDuration = new Histogram({
    name: 'popbill_enqueue_duration_seconds',
    help: 'Time to store one webhook in Redis, dedupe check included',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly replicasShort = new Counter({
    name: 'popbill_webhooks_unreplicated_total',
    help: 'Webhooks answered 503 because fewer than REDIS_MIN_REPLICAS_ACK replicas confirmed them',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Every series exists at 0 from startup, so increase() sees its first event.
    for (const type of [...KNOWN_TYPES, 'other']) {
      for (const counter of [this.accepted, this.duplicate, this.revived]) counter.inc({ type }, 0);
    }
    for (const reason of REJECT_REASONS) this.rejected.inc({ reason }, 0);
  }
}
