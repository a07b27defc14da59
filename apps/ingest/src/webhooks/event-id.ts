import { createHash } from 'node:crypto';
import type { JsonValue } from '@app/contracts';

/** Characters BullMQ accepts in a custom job id (no ":") that are also safe in logs and URLs. */
const SAFE_MID = /^[A-Za-z0-9._~-]{1,128}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** JSON with object keys sorted at every depth, so equal events hash equally. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Job id prefixes, one per source of id. Each ends with "." and none is a prefix of another, so
 * ids of different sources never meet; no BullMQ key name of a queue (wait, meta, events, …)
 * contains ".", so no id can name one of the queue's own keys either.
 */
export const EVENT_ID_PREFIX = {
  /** Pb-Webhook-MID as it is, when it is a safe id. */
  mid: 'm.',
  /** A hash of a Pb-Webhook-MID that is not a safe id. */
  midHash: 'mh.',
  /** Without a MID: a hash of type + body. */
  bodyHash: 'h.',
  /** A manual re-execution: a hash of type + MID + body, apart from the automatic sends' ids. */
  manual: 'r.',
} as const;

/**
 * The job id and dedupe key of one webhook: always prefixed by its source (EVENT_ID_PREFIX),
 * then Pb-Webhook-MID itself when it is a safe id, a hash of it otherwise, and without a MID a
 * stable hash of type + body, so a re-sent body collapses into the same job.
 */
export function eventIdFor(
  webhookType: string,
  mid: string | undefined,
  body: JsonValue,
): { eventId: string; eventIdSource: 'mid' | 'hash' } {
  if (mid !== undefined && mid !== '') {
    const eventId = SAFE_MID.test(mid)
      ? `${EVENT_ID_PREFIX.mid}${mid}`
      : `${EVENT_ID_PREFIX.midHash}${sha256(mid).slice(0, 40)}`;
    return { eventId, eventIdSource: 'mid' };
  }
  return {
    eventId: `${EVENT_ID_PREFIX.bodyHash}${sha256(`${webhookType}\n${canonicalJson(body)}`).slice(0, 40)}`,
    eventIdSource: 'hash',
  };
}

/** Pb-Webhook-EventType / eventType of a re-execution started by hand from the Popbill site. */
export const MANUAL_EVENT_TYPE = 'MANUAL';

/**
 * The job id of a manual re-execution: `r.` + a hash of type, MID and body. It never equals the
 * id of the event it repeats, so the operator sees the event again even when its MID was
 * delivered; Popbill's automatic resends of that same re-execution still collapse into one job.
 */
export function manualEventIdFor(
  webhookType: string,
  mid: string | undefined,
  body: JsonValue,
): { eventId: string; eventIdSource: 'mid' | 'hash' } {
  return {
    eventId: `${EVENT_ID_PREFIX.manual}${sha256(`${webhookType}\n${mid ?? ''}\n${canonicalJson(body)}`).slice(0, 40)}`,
    eventIdSource: mid !== undefined && mid !== '' ? 'mid' : 'hash',
  };
}
