import type { PopbillEventJob } from '@app/contracts';
import { subjectAndWhat } from '../popbill/describe-event';
import { plainText } from '../jandi/jandi-markup';
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
/** The document number most events carry, so compact lines leave its label to their group. */
const CONFIRM_LABEL = '승인번호 ';

interface Entry {
  event: PopbillEventJob;
  headline: EventHeadline;
  failure: boolean;
  /** Shown in full: a failure, or an event that may not be what we expect. */
  full: boolean;
}

/** "국세청 전송 실패 (SYN004 …)" counts as "국세청 전송 실패". */
function label(headline: EventHeadline, withSubject: boolean): string {
  const what = headline.what.replace(/\s*\([^()]*\)$/, '');
  return withSubject ? subjectAndWhat(headline.subject, what) : what;
}

const count = (n: number) => `${n.toLocaleString('en-US')}건`;

interface Group {
  label: string;
  failure: boolean;
  entries: Entry[];
}

/** Entries by label, failures first, then by count, then by name. */
function groups(entries: readonly Entry[], withSubject: boolean): Group[] {
  const byLabel = new Map<string, Group>();
  for (const entry of entries) {
    const key = label(entry.headline, withSubject);
    const group = byLabel.get(key) ?? { label: key, failure: entry.failure, entries: [] };
    group.entries.push(entry);
    byLabel.set(key, group);
  }
  return [...byLabel.values()].sort(
    (x, y) =>
      Number(y.failure) - Number(x.failure) ||
      y.entries.length - x.entries.length ||
      x.label.localeCompare(y.label),
  );
}

/** Counts per label, failures first: "국세청 전송 실패 12건 · 발행 완료 9,950건". */
export function summaryLine(
  entries: readonly Pick<Entry, 'headline' | 'failure'>[],
  withSubject: boolean,
): string {
  return groups(entries as Entry[], withSubject)
    .map((group) => `${group.label} ${count(group.entries.length)}`)
    .join(' · ');
}

/** A failure or a flagged event, itemised: what happened, its document, company and time. */
function fullEntry(entry: Entry, withSubject: boolean): JandiConnectInfo {
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

/**
 * One line naming the document and the company: "20261110410000001a2b3c4d 101-23-45678"; a
 * number other than the NTS confirmation number keeps its label, an event without one its id.
 */
export function compactLine(headline: EventHeadline, eventId: string): string {
  const document = headline.document?.startsWith(CONFIRM_LABEL)
    ? headline.document.slice(CONFIRM_LABEL.length)
    : (headline.document ?? `이벤트 ID ${eventId}`);
  return plainText(clip([document, headline.corpNum].filter(Boolean).join(' '), 120));
}

/** Successes and the rest of one kind: "발행 완료 95건 (승인번호 사업자번호)", a line each. */
function compactGroup(group: Group): JandiConnectInfo {
  const confirmed = group.entries.every((e) => e.headline.document?.startsWith(CONFIRM_LABEL));
  return {
    title: `${group.label} ${count(group.entries.length)}${confirmed ? ' (승인번호 사업자번호)' : ''}`,
    description: group.entries.map((e) => compactLine(e.headline, e.event.eventId)).join('\n'),
  };
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

/** Summary line first, then every failure and flagged event in full, then compact groups. */
function render(entries: readonly Entry[]): JandiMessage {
  const subjects = [...new Set(entries.map((e) => e.headline.subject))];
  const withSubject = subjects.length > 1;
  const body = `[${subjects.join(' · ')}] ${summaryLine(entries, withSubject)} (총 ${count(entries.length)})`;
  return {
    body: clip(body, MAX_BODY_CHARS),
    connectColor: color(entries),
    connectInfo: [
      ...entries.filter((e) => e.full).map((e) => fullEntry(e, withSubject)),
      ...groups(
        entries.filter((e) => !e.full),
        withSubject,
      ).map(compactGroup),
    ],
  };
}

/** True when JANDI shows all of it: 5000 visible characters (attachments included), 256 KB. */
export function fitsJandi(message: JandiMessage): boolean {
  return (
    visibleChars(message) <= MAX_BODY_CHARS &&
    Buffer.byteLength(JSON.stringify(message), 'utf8') <= MAX_REQUEST_BYTES
  );
}

/** Characters an entry adds at least: its full entry, or its compact line and line break. */
function minimumChars(entry: Entry): number {
  if (entry.full) {
    const shown = fullEntry(entry, false);
    return shown.title.length + shown.description.length;
  }
  return compactLine(entry.headline, entry.event.eventId).length + 1;
}

/**
 * Folds events into one JANDI message an accountant reads top down: a summary line with counts
 * per kind (failures first), every failure (and flagged event) itemised in full, then the rest
 * as one compact line each (document number, company) under a heading per kind. Shows the
 * longest prefix (after putting failures, then flagged events, first) that JANDI displays in
 * full; the caller keeps the rest for a later message, so no event is cut off yet counted as
 * shown. One event is rendered exactly as its own message would be. Pure.
 */
export function toJandiDigest(events: readonly PopbillEventJob[]): RenderedDigest {
  const entries: Entry[] = events
    .map((event) => {
      const headline = describeForJandi(event);
      const failure = headline.outcome === 'failure';
      return { event, headline, failure, full: failure || headline.problems.length > 0 };
    })
    .sort((a, b) => Number(b.failure) - Number(a.failure) || Number(b.full) - Number(a.full));
  // Entries alone bound how many can fit, so long inputs do not re-render from the top.
  let upper = 0;
  for (let chars = 0; upper < entries.length; upper++) {
    chars += minimumChars(entries[upper]);
    if (chars > MAX_BODY_CHARS) break;
  }
  for (let shown = upper; shown >= 2; shown--) {
    const message = render(entries.slice(0, shown));
    if (fitsJandi(message)) {
      return { message, shown: entries.slice(0, shown).map((e) => e.event) };
    }
  }
  if (entries.length === 0) throw new Error('a digest needs at least one event');
  return { message: toJandiMessage(entries[0].event), shown: [entries[0].event] };
}
