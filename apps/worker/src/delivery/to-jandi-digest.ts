import type { PopbillEventJob } from '@app/contracts';
import { subjectAndWhat } from '../popbill/describe-event';
import { plainText } from './jandi-markup';
import {
  clip,
  describeForJandi,
  formatPopbillDate,
  PROBLEMS_TITLE,
  MAX_BODY_CHARS,
  MAX_REQUEST_BYTES,
  OUTCOME_COLORS,
  toJandiMessage,
  type EventHeadline,
  type JandiConnectInfo,
  type JandiMessage,
} from './to-jandi-message';

/** One rendered digest and the events it shows: a prefix of the events it was given. */
export interface RenderedDigest {
  message: JandiMessage;
  shown: PopbillEventJob[];
}

export const FAILURE_MARK = '❗';

interface Entry {
  event: PopbillEventJob;
  headline: EventHeadline;
  failure: boolean;
}

/** "국세청 전송 실패 (SYN004 …)" counts as "국세청 전송 실패". */
function label(headline: EventHeadline, withSubject: boolean): string {
  const what = headline.what.replace(/\s*\([^()]*\)$/, '');
  return withSubject ? subjectAndWhat(headline.subject, what) : what;
}

/** Counts per label, failures first, then by count, then by name: "실패 3 · 발행 완료 120". */
export function summaryLine(entries: readonly Entry[], withSubject: boolean): string {
  const groups = new Map<string, { count: number; failure: boolean }>();
  for (const entry of entries) {
    const key = label(entry.headline, withSubject);
    const group = groups.get(key) ?? { count: 0, failure: entry.failure };
    group.count += 1;
    groups.set(key, group);
  }
  return [...groups.entries()]
    .sort(
      ([a, x], [b, y]) =>
        Number(y.failure) - Number(x.failure) || y.count - x.count || a.localeCompare(b),
    )
    .map(([key, { count }]) => `${key} ${count}`)
    .join(' · ');
}

function connectEntry(entry: Entry, withSubject: boolean): JandiConnectInfo {
  const { headline, event } = entry;
  const when = typeof event.body?.eventDT === 'string' ? event.body.eventDT : null;
  const facts = [
    headline.about || `이벤트 ID ${event.eventId}`,
    when ? formatPopbillDate(when).replace(/ KST$/, '') : null,
    headline.problems.length > 0 ? PROBLEMS_TITLE : null,
  ].filter(Boolean);
  const title = `${entry.failure ? `${FAILURE_MARK} ` : ''}${withSubject ? `[${headline.subject}] ` : ''}${headline.what}`;
  return { title: clip(title, 200), description: plainText(clip(facts.join(' · '), 300)) };
}

function color(entries: readonly Entry[]): string {
  if (entries.some((e) => e.failure)) return OUTCOME_COLORS.failure;
  if (entries.every((e) => e.headline.outcome === 'success')) return OUTCOME_COLORS.success;
  return OUTCOME_COLORS.information;
}

function visibleChars(message: JandiMessage): number {
  return message.connectInfo.reduce(
    (sum, e) => sum + e.title.length + e.description.length,
    message.body.length,
  );
}

function render(entries: readonly Entry[]): JandiMessage {
  const subjects = [...new Set(entries.map((e) => e.headline.subject))];
  const withSubject = subjects.length > 1;
  const header = `[${subjects.join(' · ')}] 알림 ${entries.length}건 묶음`;
  return {
    body: clip(`${header} · ${summaryLine(entries, withSubject)}`, MAX_BODY_CHARS),
    connectColor: color(entries),
    connectInfo: entries.map((e) => connectEntry(e, withSubject)),
  };
}

/** True when JANDI shows all of it: 5000 visible characters (attachments included), 256 KB. */
export function fitsJandi(message: JandiMessage): boolean {
  return (
    visibleChars(message) <= MAX_BODY_CHARS &&
    Buffer.byteLength(JSON.stringify(message), 'utf8') <= MAX_REQUEST_BYTES
  );
}

/**
 * Folds events into one JANDI message: a summary line with counts per kind (failures first) and
 * one attachment entry per event with its key facts, failures leading. Shows the longest prefix
 * (after putting failures first) that JANDI displays in full; the caller keeps the rest for a
 * later message, so no event is cut off yet counted as shown. One event is rendered exactly as
 * its own message would be. Pure.
 */
export function toJandiDigest(events: readonly PopbillEventJob[]): RenderedDigest {
  const entries: Entry[] = events
    .map((event) => {
      const headline = describeForJandi(event);
      return { event, headline, failure: headline.outcome === 'failure' };
    })
    .sort((a, b) => Number(b.failure) - Number(a.failure));
  // Entries alone bound how many can fit, so long inputs do not re-render from the top.
  let upper = 0;
  for (let chars = 0; upper < entries.length; upper++) {
    const entry = connectEntry(entries[upper], false);
    chars += entry.title.length + entry.description.length;
    if (chars > MAX_BODY_CHARS) break;
  }
  for (let count = upper; count >= 2; count--) {
    const message = render(entries.slice(0, count));
    if (fitsJandi(message)) {
      return { message, shown: entries.slice(0, count).map((e) => e.event) };
    }
  }
  if (entries.length === 0) throw new Error('a digest needs at least one event');
  return { message: toJandiMessage(entries[0].event), shown: [entries[0].event] };
}
