import { DELIVER_EVENT_JOB, RELAY_JOB_OPTIONS, type PopbillEventJobV1 } from '@app/contracts';
import type { AcceptedMessage } from '@app/jandi-standin';
import type { Queue } from 'bullmq';
import { FAILURE_MARK } from '../src/rendering/to-jandi-digest';
import { fixtureJob } from './popbill-fixtures';

/** An 18-character document key unique to (series, i): series is one capital letter. */
export const itemKeyOf = (series: string, i: number) => `${series}${String(i).padStart(17, '0')}`;
const ITEM_KEY = /\b[A-Z]\d{17}\b/g;

/**
 * A month-end burst as ingest would enqueue it: `count` events, every `failureEvery`-th an NTS
 * filing failure, each with its own document key (as itemKey and as NTS confirmation number,
 * which is what messages headline).
 */
export async function enqueueBurst(
  queue: Queue,
  series: string,
  count: number,
  failureEvery = 0,
): Promise<{ ids: string[]; itemKeys: string[]; failureKeys: string[] }> {
  const jobs = Array.from({ length: count }, (_, i) => {
    const failure = failureEvery > 0 && i % failureEvery === failureEvery - 1;
    const eventId = `${series}-${i}`;
    const data: PopbillEventJobV1 = fixtureJob(
      failure ? 'taxinvoice-nts-failed.json' : 'taxinvoice-issue.json',
      { eventId, requestId: `req-${eventId}` },
    );
    data.body = {
      ...data.body,
      itemKey: itemKeyOf(series, i),
      ntsConfirmNum: itemKeyOf(series, i),
    };
    return { name: DELIVER_EVENT_JOB, data, opts: { ...RELAY_JOB_OPTIONS, jobId: eventId } };
  });
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  return {
    ids: jobs.map((j) => j.data.eventId),
    itemKeys: jobs.map((j) => String(j.data.body.itemKey)),
    failureKeys: jobs.flatMap((j) =>
      j.data.body.stateCode === 305 ? [String(j.data.body.itemKey)] : [],
    ),
  };
}

/** Document key → how many accepted messages show it. */
export function shownCounts(messages: readonly AcceptedMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) {
    const text = [
      message.body,
      ...(message.connectInfo ?? []).flatMap((e) => [e.title, e.description]),
    ].join('\n');
    for (const key of new Set(text.match(ITEM_KEY) ?? []))
      counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Attachment entries of a digest that show a failure after an entry that does not. */
export function failuresAfterOthers(message: AcceptedMessage): number {
  const entries = message.connectInfo ?? [];
  const firstOther = entries.findIndex((e) => !e.title.startsWith(FAILURE_MARK));
  if (firstOther < 0) return 0;
  return entries.slice(firstOther).filter((e) => e.title.startsWith(FAILURE_MARK)).length;
}

/** A digest carries several events; a single event's message shows its own '이벤트 ID'. */
export const isDigest = (message: AcceptedMessage) =>
  !(message.connectInfo ?? []).some((e) => e.title === '이벤트 ID');
