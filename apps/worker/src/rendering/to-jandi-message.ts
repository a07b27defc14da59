import type { JsonValue, PopbillEventJob } from '@app/contracts';
import {
  corpNumLabel,
  describeEvent,
  scalar,
  type EventHeadline,
  type Outcome,
} from '../popbill/describe-event';
import { formatAmount, formatCorpNum, formatPopbillDate } from '../popbill/popbill-format';
import {
  AMOUNT_FIELDS,
  CORP_NUM_FIELDS,
  DATE_FIELDS,
  describeEnum,
  describeStateCode,
  ENUM_FIELDS,
  KEY_FIELDS,
  labelOf,
  MESSAGE_FIELDS,
  NAME_FIELDS,
  ntsResultMeaning,
  PRODUCTS,
} from '../popbill/popbill-vocabulary';
import { plainText } from '../jandi/jandi-markup';
import {
  clip,
  MAX_BODY_CHARS,
  MAX_REQUEST_BYTES,
  type JandiConnectInfo,
  type JandiMessage,
} from '../jandi/jandi-message';

export type { EventHeadline, Outcome } from '../popbill/describe-event';
export { describeEvent } from '../popbill/describe-event';
export { formatAmount, formatCorpNum, formatPopbillDate } from '../popbill/popbill-format';
export { describeStateCode } from '../popbill/popbill-vocabulary';
export type { JandiConnectInfo, JandiMessage } from '../jandi/jandi-message';
export { clip, MAX_BODY_CHARS, MAX_REQUEST_BYTES, TRUNCATION_MARKER } from '../jandi/jandi-message';

export const OUTCOME_COLORS: Record<Outcome, string> = {
  success: '#2EB67D',
  failure: '#E01E5A',
  cancellation: '#8E8E93',
  information: '#1E88E5',
};

/** Most body fields one message lists: JANDI shows 5000 characters, so more are never seen. */
export const MAX_FIELDS = 200;
const MAX_DESCRIPTION_CHARS = 1000;
const MAX_TITLE_CHARS = 100;
export const PROBLEMS_TITLE = '형식 확인 필요';
export const OMITTED_TITLE = '생략';

const SKIPPED_FIELDS = new Set(['eventType']);

/** Webhook text made safe to show: clipped, then stripped of JANDI markup. */
function shown(text: string, max: number): string {
  return plainText(clip(text, max));
}

/** describeEvent with every webhook-derived string made plain text for JANDI. */
export function describeForJandi(event: PopbillEventJob): EventHeadline {
  const headline = describeEvent(event);
  return {
    ...headline,
    subject: shown(headline.subject, MAX_TITLE_CHARS),
    what: shown(headline.what, MAX_DESCRIPTION_CHARS),
    about: shown(headline.about, MAX_DESCRIPTION_CHARS),
    document: headline.document === null ? null : shown(headline.document, MAX_TITLE_CHARS),
    corpNum: headline.corpNum === null ? null : shown(headline.corpNum, MAX_TITLE_CHARS),
    itemKey: headline.itemKey === null ? null : shown(headline.itemKey, MAX_TITLE_CHARS),
    problems: headline.problems.map((problem) => shown(problem, MAX_TITLE_CHARS)),
  };
}

function fieldEntry(key: string, value: string, webhookType: string): JandiConnectInfo {
  const label = (table: Readonly<Record<string, string>>) => labelOf(table, key);
  const date = label(DATE_FIELDS);
  if (date) return { title: date, description: formatPopbillDate(value) };
  if (key === 'corpNum')
    return { title: corpNumLabel(webhookType), description: formatCorpNum(value) };
  const corp = label(CORP_NUM_FIELDS);
  if (corp) return { title: corp, description: formatCorpNum(value) };
  const amount = label(AMOUNT_FIELDS);
  if (amount) return { title: amount, description: formatAmount(value) };
  const name = label(NAME_FIELDS) ?? label(KEY_FIELDS);
  if (name) return { title: name, description: value };
  const enumTitle = label(ENUM_FIELDS);
  if (enumTitle) return { title: enumTitle, description: describeEnum(key, value) };
  const message = webhookType === 'KAKAO.STATE' ? label(MESSAGE_FIELDS) : undefined;
  if (message) return { title: message, description: value };
  if (key === 'stateCode') {
    const meaning = describeStateCode(value);
    return { title: '상태', description: meaning === value ? value : `${value} (${meaning})` };
  }
  if (key === 'ntssendErrCode' || key === 'ntsresultCode') {
    const meaning = ntsResultMeaning(value);
    return { title: '국세청 결과 코드', description: meaning ? `${value} (${meaning})` : value };
  }
  return { title: key === '' ? '(이름 없는 항목)' : key, description: value };
}

/** Field order: identity first, then state, people and money, then dates, then the rest. */
const ORDER = [
  ...Object.keys(KEY_FIELDS),
  'stateCode',
  'ntssendErrCode',
  'ntsresultCode',
  ...Object.keys(CORP_NUM_FIELDS),
  ...Object.keys(NAME_FIELDS),
  ...Object.keys(AMOUNT_FIELDS),
  ...Object.keys(ENUM_FIELDS),
  ...Object.keys(MESSAGE_FIELDS),
  ...Object.keys(DATE_FIELDS),
];
const ORDERED = new Set(ORDER);

/** The body's keys in display order, at most MAX_FIELDS of them, and how many were left out. */
function fieldsToShow(body: Record<string, JsonValue>): { keys: string[]; omitted: number } {
  const own = (key: string) => Object.prototype.hasOwnProperty.call(body, key);
  const first = ORDER.filter((key) => own(key) && !SKIPPED_FIELDS.has(key));
  const rest = Object.keys(body)
    .filter((key) => !ORDERED.has(key) && !SKIPPED_FIELDS.has(key))
    .sort();
  const total = first.length + rest.length;
  const keys = [...first, ...rest.slice(0, Math.max(0, MAX_FIELDS - first.length))];
  return { keys, omitted: total - keys.length };
}

/** A value as text; when nothing may be hidden, null and blank are shown instead of skipped. */
function valueText(value: JsonValue | undefined, showBlank: boolean): string | null {
  const text = scalar(value);
  if (text !== null || !showBlank) return text;
  return value === null || value === undefined ? '(없음)' : '(빈 값)';
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

function omittedEntry(count: number): JandiConnectInfo {
  return {
    title: OMITTED_TITLE,
    description: `메시지 크기 제한으로 나머지 ${count}개 항목을 생략했습니다.`,
  };
}

/**
 * Keeps the request under JANDI's size limit by dropping trailing field entries. Each entry is
 * serialised once and the sizes are added up, so fitting is linear in the entries considered.
 */
function fitRequest(
  base: Omit<JandiMessage, 'connectInfo'>,
  head: JandiConnectInfo[],
  fields: JandiConnectInfo[],
  tail: JandiConnectInfo[],
  omitted: number,
): JandiMessage {
  // Each entry after the first adds a comma; the omission marker is sized for the largest count.
  const entryBytes = (entry: JandiConnectInfo) => jsonBytes(entry) + 1;
  const fixed =
    jsonBytes({ ...base, connectInfo: [] }) +
    [...head, ...tail].reduce((sum, entry) => sum + entryBytes(entry), 0) +
    entryBytes(omittedEntry(fields.length + omitted));
  let used = fixed;
  let kept = 0;
  for (; kept < fields.length; kept++) {
    const next = used + entryBytes(fields[kept]);
    if (next > MAX_REQUEST_BYTES) break;
    used = next;
  }
  const dropped = fields.length - kept + omitted;
  return {
    ...base,
    connectInfo: [
      ...head,
      ...fields.slice(0, kept),
      ...(dropped > 0 ? [omittedEntry(dropped)] : []),
      ...tail,
    ],
  };
}

/**
 * Renders one Popbill event as a Korean JANDI message. Every field the event carries is listed
 * (unknown ones by their JSON name); an event that is flagged or not of a kind we know says so
 * first. Every value from the webhook is plain text (see plainText). Pure; never throws on odd
 * bodies.
 */
export function toJandiMessage(event: PopbillEventJob): JandiMessage {
  const body: Record<string, JsonValue> = event.body ?? {};
  const headline = describeForJandi(event);
  const { subject, what, outcome, about, known, problems } = headline;
  const defensive = problems.length > 0;
  const text = `[${subject}] ${what}${about ? ` · ${about}` : ''}${defensive ? ` · ${PROBLEMS_TITLE}` : ''}`;

  const head: JandiConnectInfo[] = [];
  if (defensive) head.push({ title: PROBLEMS_TITLE, description: problems.join(', ') });
  if (labelOf(PRODUCTS, event.webhookType) === undefined)
    head.push({ title: '웹훅 종류', description: shown(event.webhookType, MAX_TITLE_CHARS) });
  if (event.eventType && (!known || event.webhookType.startsWith('HT.')))
    head.push({ title: '이벤트', description: shown(event.eventType, MAX_TITLE_CHARS) });

  const { keys, omitted } = fieldsToShow(body);
  const fields: JandiConnectInfo[] = [];
  for (const key of keys) {
    const value = valueText(body[key], defensive);
    if (value === null) continue;
    const entry = fieldEntry(key, clip(value, MAX_DESCRIPTION_CHARS * 2), event.webhookType);
    fields.push({
      title: shown(entry.title, MAX_TITLE_CHARS),
      description: shown(entry.description, MAX_DESCRIPTION_CHARS),
    });
  }
  const tail = [{ title: '이벤트 ID', description: shown(event.eventId, MAX_TITLE_CHARS) }];

  return fitRequest(
    { body: clip(text, MAX_BODY_CHARS), connectColor: OUTCOME_COLORS[outcome] },
    head,
    fields,
    tail,
    omitted,
  );
}
