import type { JsonValue, PopbillEventJob } from '@app/contracts';
import { formatCorpNum } from './popbill-format';
import {
  describeFlag,
  describeStateCode,
  labelOf,
  NTS_STATES,
  ntsResultMeaning,
  PRODUCTS,
} from './popbill-vocabulary';

export type Outcome = 'success' | 'failure' | 'cancellation' | 'information';

/** What one event is: the headline both a single message and a digest entry show. Pure. */
export interface EventHeadline {
  /** Product name, or `Popbill <type>` for a webhook type we do not know. */
  subject: string;
  /** What happened, e.g. "국세청 전송 실패 (SYN004 전자세금계산서 스키마 오류)". */
  what: string;
  outcome: Outcome;
  /** "승인번호 …, 공급자 사업자번호 101-23-45678" (or the document's own number); may be empty. */
  about: string;
  /** The number a person files the document by, labelled: "승인번호 …", "문서번호 …"; or null. */
  document: string | null;
  /** The member company's business number, formatted: "101-23-45678"; or null. */
  corpNum: string | null;
  itemKey: string | null;
  /** The product and event type are ones we render by name. */
  known: boolean;
  /** Why the event may not be what we expect, in Korean; empty when it is. */
  problems: string[];
}

/** A body value as one line of text; null when absent or blank. Never throws. */
export function scalar(value: JsonValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function outcomeOfState(code: string | null): Outcome {
  if (!code || !/^\d{3}$/.test(code)) return 'information';
  if (code[0] === '5' || code[0] === '6') return 'cancellation';
  if (code[0] === '4' || code[2] === '5') return 'failure';
  if (code[2] === '4') return 'success';
  return 'information';
}

interface Happening {
  what: string;
  outcome: Outcome;
}

function ntsHappening(code: string | null, resultCode: string | null): Happening {
  const last = code && /^\d{3}$/.test(code) ? code[2] : null;
  if (last === '4') return { what: '국세청 전송 성공', outcome: 'success' };
  if (last === '5') {
    const meaning = resultCode ? ntsResultMeaning(resultCode) : null;
    const reason = resultCode ? ` (${resultCode}${meaning ? ` ${meaning}` : ''})` : '';
    return { what: `국세청 전송 실패${reason}`, outcome: 'failure' };
  }
  const state = last ? labelOf(NTS_STATES, last) : undefined;
  if (state) return { what: `국세청 ${state}`, outcome: 'information' };
  return { what: `국세청 상태 변경 (${code ?? '상태 없음'})`, outcome: outcomeOfState(code) };
}

function happening(
  webhookType: string,
  eventType: string | null,
  code: string | null,
  resultCode: string | null,
): Happening | null {
  if (webhookType.startsWith('HT.')) return { what: '수집 자료 도착', outcome: 'information' };
  if (webhookType === 'KAKAO.STATE') {
    if (eventType === 'RESULT') return { what: '전송 결과', outcome: 'information' };
    if (eventType === 'MANUAL') return { what: '전송 결과 (수동 재실행)', outcome: 'information' };
    return null;
  }
  switch (eventType) {
    case 'Issue':
      return { what: '발행 완료', outcome: 'success' };
    case 'CancelIssue':
      return { what: '발행 취소', outcome: 'cancellation' };
    case 'Cancel':
      return { what: '취소', outcome: 'cancellation' };
    case 'NTS':
      return ntsHappening(code, resultCode);
    case 'OPEN':
      return {
        what: webhookType === 'STATEMENT.STATE' ? '수신자 열람' : '공급받는자 열람',
        outcome: 'information',
      };
    case 'CLOSEDOWN':
      return { what: '거래처 휴폐업 조회 완료', outcome: 'information' };
    case 'MANUAL':
      return {
        what: `수동 재실행${code ? ` (현재 상태: ${describeStateCode(code)})` : ''}`,
        outcome: outcomeOfState(code),
      };
    default:
      return null;
  }
}

/** Whose business number the body's corpNum is, per product. */
export function corpNumLabel(webhookType: string): string {
  return webhookType === 'TAXINVOICE.STATE' || webhookType === 'STATEMENT.STATE'
    ? '공급자 사업자번호'
    : '팝빌회원 사업자번호';
}

/** The number a person files the document by: NTS confirmation, then the seller's own key. */
function documentNumber(body: PopbillEventJob['body']): string | null {
  const confirmNum =
    scalar(body.ntsConfirmNum) ?? scalar(body.ntsconfirmNum) ?? scalar(body.confirmNum);
  if (confirmNum) return `승인번호 ${confirmNum}`;
  const ownKey = scalar(body.invoicerMgtKey) ?? scalar(body.mgtKey);
  if (ownKey) return `문서번호 ${ownKey}`;
  const receiptNum = scalar(body.receiptNum);
  if (receiptNum) return `접수번호 ${receiptNum}`;
  const itemKey = scalar(body.itemKey);
  return itemKey ? `팝빌 문서키 ${itemKey}` : null;
}

/** The flags ingest set plus what the worker sees itself, in Korean, without repeats. */
function problemsOf(event: PopbillEventJob, documented: boolean, known: boolean): string[] {
  const flags: readonly string[] = Array.isArray(event.flags) ? event.flags : [];
  const all = flags
    .filter((flag) => typeof flag === 'string')
    // Not checked field by field is no problem in itself; an unknown type is said below.
    .filter((flag) => flag !== 'unmodelled-webhook-type')
    .map(describeFlag);
  if (!documented) all.push(describeFlag('unknown-webhook-type'));
  else if (!known) all.push(describeFlag('unknown-event-type'));
  return [...new Set(all)];
}

export function describeEvent(event: PopbillEventJob): EventHeadline {
  const body = event.body ?? {};
  const product = labelOf(PRODUCTS, event.webhookType);
  const code = scalar(body.stateCode);
  const resultCode = scalar(body.ntssendErrCode) ?? scalar(body.ntsresultCode);
  const known = product ? happening(event.webhookType, event.eventType, code, resultCode) : null;
  const corpNum = event.corpNum ?? scalar(body.corpNum);

  const what = known
    ? known.what
    : `${event.eventType ? `'${event.eventType}' ` : ''}이벤트 수신${product ? ' (알 수 없는 이벤트 종류)' : ''}`;
  const document = documentNumber(body);
  const about = [
    document,
    corpNum ? `${corpNumLabel(event.webhookType)} ${formatCorpNum(corpNum)}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  return {
    subject: product ?? `Popbill ${event.webhookType}`,
    what,
    outcome: known?.outcome ?? outcomeOfState(code),
    about,
    document,
    corpNum: corpNum ? formatCorpNum(corpNum) : null,
    itemKey: scalar(body.itemKey),
    known: known !== null,
    problems: problemsOf(event, product !== undefined, known !== null),
  };
}

/** "[subject] what" without saying a word twice where the subject ends as `what` begins. */
export function subjectAndWhat(subject: string, what: string): string {
  const last = subject.split(' ').at(-1);
  const [first, ...rest] = what.split(' ');
  return last && first === last ? `${subject} ${rest.join(' ')}` : `${subject} ${what}`;
}
