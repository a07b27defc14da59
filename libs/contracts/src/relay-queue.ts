import type { DefaultJobOptions } from 'bullmq';

/** Never rename: jobs already queued under the old name would be stranded. */
export const RELAY_QUEUE = 'popbill-events';

/**
 * The name every job had before names described their event (eventJobName). Jobs queued then
 * still carry it; the worker trusts a job's data (isPopbillEventJob), never its name.
 */
export const DELIVER_EVENT_JOB = 'deliver-event';

/**
 * Default prefix of every queue key. The braces are a Redis Cluster hash tag, so all of a
 * queue's keys land in one slot and BullMQ's multi-key scripts work on Cluster too.
 */
export const DEFAULT_QUEUE_PREFIX = '{relay}';

/**
 * Dead letters are the jobs of RELAY_QUEUE in BullMQ's `failed` state: they are kept
 * (removeOnFail: false) with their reason, shown in Bull Board and put back by a replay.
 */
export const DEAD_LETTER_STATE = 'failed';

const HOUR_SECONDS = 3600;

/**
 * Backoff type the worker implements (`settings.backoffStrategy`): exponential from `delay`
 * with jitter and a ceiling, so a long JANDI outage is ridden out without hour-long gaps.
 */
export const RELAY_BACKOFF_TYPE = 'relay-exponential';

export const RELAY_JOB_OPTIONS: DefaultJobOptions = {
  // With the worker's default 1 h ceiling, 20 attempts span about 11 hours of outage.
  attempts: 20,
  backoff: { type: RELAY_BACKOFF_TYPE, delay: 5_000 },
  removeOnComplete: { age: 24 * HOUR_SECONDS, count: 50_000 },
  removeOnFail: false,
};
