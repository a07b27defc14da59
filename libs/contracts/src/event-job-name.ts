import type { PopbillEventJob } from './popbill-event.job';

/** Longest name a job gets: Bull Board lists it, and Redis stores it with every job. */
export const EVENT_JOB_NAME_MAX = 120;

/** Control, format (bidi overrides, zero-width) and separator characters, which names never show. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu;

function clean(value: unknown, max: number): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const text = String(value).replace(INVISIBLE, ' ').replace(/\s+/g, ' ').trim();
  if (text === '') return null;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A job name that says what the event is, e.g. `TAXINVOICE.STATE/Issue 026111009300000001`:
 * the webhook type, the event type and Popbill's item key (the event id without one). Names are
 * for people reading Bull Board; the worker trusts the job's data, never its name.
 */
export function eventJobName(job: PopbillEventJob): string {
  const type = clean(job.webhookType, 40) ?? '?';
  const eventType = clean(job.eventType, 40);
  const key = clean(job.body?.itemKey, 64) ?? clean(job.eventId, 80) ?? '?';
  const name = `${type}${eventType ? `/${eventType}` : ''} ${key}`;
  return name.length > EVENT_JOB_NAME_MAX ? `${name.slice(0, EVENT_JOB_NAME_MAX - 1)}…` : name;
}
