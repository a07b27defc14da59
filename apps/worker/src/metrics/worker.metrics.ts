import { redisHealthMetrics } from '@app/redis';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type DeliveryOutcomeLabel =
  'delivered' | 'rate_limited' | 'rejected' | 'failed' | 'interrupted';

const DELIVERY_OUTCOMES = [
  'delivered',
  'rate_limited',
  'rejected',
  'failed',
  'expired',
  'interrupted',
];

/** Dead-letter reasons known ahead: the failure message up to its first colon. */
export const DEAD_LETTER_REASONS = [
  'JANDI rejected',
  'JANDI failed',
  'malformed job',
  'job stalled more than allowable limit',
];

/** Every worker metric, on the worker's own registry. Recorded at the one dispatch point. */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly redis = redisHealthMetrics(this.registry, 'worker');

  readonly deliveries = new Counter({
    name: 'jandi_deliveries_total',
    help: 'Requests sent to JANDI, by destination and outcome',
    labelNames: ['destination', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveryDuration = new Histogram({
    name: 'jandi_delivery_duration_seconds',
    help: 'Duration of one request to JANDI',
    labelNames: ['destination'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly endToEndLag = new Histogram({
    name: 'relay_end_to_end_lag_seconds',
    help: 'From ingest receiving the Popbill event to JANDI accepting the message',
    labelNames: ['destination'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 900, 3600, 14_400],
    registers: [this.registry],
  });

  readonly quotaWait = new Histogram({
    name: 'jandi_quota_wait_seconds',
    help: 'Time a job was told to wait for its destination quota, per wait',
    labelNames: ['destination'] as const,
    buckets: [0.01, 0.1, 0.5, 1, 5, 10, 60, 300, 600, 3600],
    registers: [this.registry],
  });

  readonly quotaHeadroom = new Gauge({
    name: 'jandi_quota_headroom',
    help: 'Requests still allowed now in each window of a destination',
    labelNames: ['destination', 'window'] as const,
    registers: [this.registry],
  });

  readonly jobs = new Gauge({
    name: 'relay_jobs',
    help: 'Jobs of the relay queue by state (failed = dead letters)',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'relay_dead_letters_total',
    help: 'Jobs this worker moved to the dead letters, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly deadLettersRemoved = new Counter({
    name: 'relay_dead_letters_removed_total',
    help: 'Dead letters removed for being older than DEAD_LETTER_RETENTION_DAYS (age) or over DEAD_LETTER_MAX (limit)',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });

  readonly duplicates = new Counter({
    name: 'jandi_duplicates_total',
    help: 'Duplicates detected: skipped (already delivered) or possible (a send whose outcome was lost)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly digests = new Counter({
    name: 'jandi_digests_total',
    help: 'Digest messages (many events in one request) sent to JANDI, by destination and outcome',
    labelNames: ['destination', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly digestEvents = new Histogram({
    name: 'jandi_digest_events',
    help: 'Events shown by one digest JANDI accepted',
    labelNames: ['destination'] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [this.registry],
  });

  readonly backlogAge = new Gauge({
    name: 'relay_backlog_age_seconds',
    help: "Age of the oldest event waiting in a destination's digest pool (0 when none waits)",
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });

  readonly pooledEvents = new Gauge({
    name: 'relay_digest_pool_events',
    help: "Events waiting in a destination's digest pool",
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });

  readonly oldestWaitingAge = new Gauge({
    name: 'relay_oldest_waiting_age_seconds',
    help: 'Age of the oldest event not yet delivered nor being sent (waiting, prioritized, next delayed, digest pools)',
    registers: [this.registry],
  });

  readonly latencyTarget = new Gauge({
    name: 'relay_digest_latency_target_seconds',
    help: 'DIGEST_LATENCY_TARGET_MS of this worker: how long an event may wait before it joins a digest',
    registers: [this.registry],
  });

  readonly redisMemoryUsed = new Gauge({
    name: 'relay_redis_memory_used_bytes',
    help: "Redis's used_memory",
    registers: [this.registry],
  });

  readonly redisMemoryMax = new Gauge({
    name: 'relay_redis_memory_max_bytes',
    help: "Redis's maxmemory (0: no limit set)",
    registers: [this.registry],
  });

  readonly reporter = new Gauge({
    name: 'relay_queue_metrics_reporter',
    help: 'Whether this worker is the one exporting the queue-wide gauges (1) or not (0)',
    registers: [this.registry],
  });

  readonly opsNotices = new Counter({
    name: 'relay_ops_notices_total',
    help: 'Notices to the operators (JANDI_WEBHOOK_URL_OPS), by kind and outcome (suppressed: one was sent this interval)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Queue-wide gauges: one worker exports them, so sum() over workers does not multiply them. */
  readonly queueWide: Gauge[] = [
    this.jobs,
    this.quotaHeadroom,
    this.backlogAge,
    this.pooledEvents,
    this.oldestWaitingAge,
    this.redisMemoryUsed,
    this.redisMemoryMax,
  ];

  /** `destinations`: names whose series exist at 0 from startup, so increase() sees the first. */
  constructor(destinations: readonly string[] = []) {
    collectDefaultMetrics({ register: this.registry });
    for (const destination of destinations) {
      for (const outcome of DELIVERY_OUTCOMES) {
        this.deliveries.inc({ destination, outcome }, 0);
        this.digests.inc({ destination, outcome }, 0);
      }
      for (const histogram of [this.deliveryDuration, this.endToEndLag, this.quotaWait]) {
        histogram.zero({ destination });
      }
      this.digestEvents.zero({ destination });
    }
    for (const reason of DEAD_LETTER_REASONS) this.deadLetters.inc({ reason }, 0);
    for (const kind of ['skipped', 'possible']) this.duplicates.inc({ kind }, 0);
    for (const kind of ['dead_letter', 'failing']) {
      for (const outcome of ['sent', 'suppressed', 'failed', 'dropped']) {
        this.opsNotices.inc({ kind, outcome }, 0);
      }
    }
  }
}
