/** JSON value as it crosses Redis: no Date, no undefined, no class instances. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Webhook types whose bodies ingest validates field by field. */
export const MODELLED_WEBHOOK_TYPES = [
  'TAXINVOICE.STATE',
  'STATEMENT.STATE',
  'CASHBILL.STATE',
] as const;
export type ModelledWebhookType = (typeof MODELLED_WEBHOOK_TYPES)[number];

/** Pb-Webhook-Type stored when the header is missing or malformed (the raw value stays in headers). */
export const UNKNOWN_WEBHOOK_TYPE = 'unknown';

/**
 * Why ingest marked an accepted event. Flags never refuse an event; metrics, logs and the
 * message show them. Forms, open to new values within v1:
 * - `unknown-event-type`: a modelled type with an eventType its DTO does not list;
 * - `unmodelled-webhook-type`: a Pb-Webhook-Type without a DTO, accepted on its envelope;
 * - `missing-webhook-type`, `invalid-webhook-type`: stored as webhookType `unknown`;
 * - `corpnum-mismatch`: Pb-Webhook-Corpnum differs from the body's corpNum (the body wins);
 * - `schema:<field>:<problem>`: a modelled field failed its DTO check, problem being one of
 *   `missing`, `empty`, `type`, `length`, `format`.
 */
export type EventFlag =
  | 'unknown-event-type'
  | 'unmodelled-webhook-type'
  | 'missing-webhook-type'
  | 'invalid-webhook-type'
  | 'corpnum-mismatch'
  | `schema:${string}:${SchemaProblem}`;

/** What a `schema:` flag says about one field. */
export type SchemaProblem = 'missing' | 'empty' | 'type' | 'length' | 'format';

/**
 * One Popbill webhook, version 1. `body` is the event exactly as Popbill sent it, so fields we
 * do not model yet are never lost.
 */
export interface PopbillEventJobV1 {
  v: 1;
  /**
   * Job id and dedupe key: Pb-Webhook-MID, or a stable hash of type + body without it. A manual
   * re-execution (eventType MANUAL) gets its own id, so it is delivered again.
   */
  eventId: string;
  /** Where eventId came from. */
  eventIdSource: 'mid' | 'hash';
  /** Pb-Webhook-Type, e.g. TAXINVOICE.STATE, or `unknown` when missing or malformed. */
  webhookType: string;
  /** The body's corpNum (hyphens removed), or Pb-Webhook-Corpnum when the body has none. */
  corpNum: string | null;
  /** The body's eventType (or Pb-Webhook-EventType). */
  eventType: string | null;
  /** ISO-8601 time at which ingest received the request. */
  receivedAt: string;
  /** Request id of the ingest request, to follow one event through the logs. */
  requestId: string;
  /** Every Pb-* header as received (lower-cased names); credentials are never kept. */
  headers: Record<string, string>;
  body: JsonObject;
  /** EventFlag values; readers must tolerate flags they do not know yet. */
  flags: string[];
}

export type PopbillEventJob = PopbillEventJobV1;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a payload read back from Redis before a consumer trusts it. */
export function isPopbillEventJob(value: unknown): value is PopbillEventJob {
  if (!isRecord(value)) return false;
  return (
    value.v === 1 &&
    typeof value.eventId === 'string' &&
    (value.eventIdSource === 'mid' || value.eventIdSource === 'hash') &&
    typeof value.webhookType === 'string' &&
    (value.corpNum === null || typeof value.corpNum === 'string') &&
    (value.eventType === null || typeof value.eventType === 'string') &&
    typeof value.receivedAt === 'string' &&
    typeof value.requestId === 'string' &&
    isRecord(value.headers) &&
    isRecord(value.body) &&
    Array.isArray(value.flags) &&
    value.flags.every((flag) => typeof flag === 'string')
  );
}
