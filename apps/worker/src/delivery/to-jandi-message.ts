import type { JsonValue, PopbillEventJob } from '@app/contracts';

export interface JandiConnectInfo {
  title: string;
  description: string;
}

/** The body of one JANDI incoming-webhook request. */
export interface JandiMessage {
  body: string;
  connectColor: string;
  connectInfo: JandiConnectInfo[];
}

export type Outcome = 'success' | 'failure' | 'cancellation' | 'information';

export const OUTCOME_COLORS: Record<Outcome, string> = {
  success: '#2EB67D',
  failure: '#E01E5A',
  cancellation: '#8E8E93',
  information: '#1E88E5',
};

/** JANDI shows only the first 5000 characters of a message. */
export const MAX_BODY_CHARS = 5000;
/** JANDI rejects requests over 256 KB; keep clear of it. */
export const MAX_REQUEST_BYTES = 250 * 1024;
const MAX_DESCRIPTION_CHARS = 1000;
export const TRUNCATION_MARKER = '… (이하 생략)';

const PRODUCTS: Record<string, string> = {
  'TAXINVOICE.STATE': '전자세금계산서',
  'STATEMENT.STATE': '전자명세서',
  'CASHBILL.STATE': '현금영수증',
  'HT.TAXINVOICEXML': '홈택스 전자세금계산서 수집',
  'HT.CASHBILL': '홈택스 현금영수증 수집',
  'KAKAO.STATE': '카카오톡 알림',
};

const DOCUMENT_STATES: Record<string, string> = {
  '1': '임시저장',
  '2': '승인대기',
  '3': '발행완료',
  '4': '거부',
  '5': '취소',
  '6': '발행취소',
};

const NTS_STATES: Record<string, string> = {
  '0': '국세청 미전송',
  '1': '국세청 전송대기',
  '2': '국세청 전송중',
  '3': '국세청 전송중',
  '4': '국세청 전송성공',
  '5': '국세청 전송실패',
};

const NTS_ERROR_CODES: Record<string, string> = {
  SUC001: '성공',
  SYN002: '공급자 전자서명 오류',
  SYN003: '승인번호 중복 등록',
  SYN004: '스키마 오류',
  ERR001: '공급자 사업자번호 오류',
};

/** Field → label for fields rendered by kind; anything else is listed under its own name. */
const DATE_FIELDS: Record<string, string> = {
  eventDT: '이벤트 일시',
  stateDT: '상태 변경 일시',
  issueDT: '발행 일시',
  ntssendDT: '국세청 전송 일시',
  ntsresultDT: '국세청 처리 일시',
  tradeDate: '거래일자',
  writeDate: '작성일자',
  sendDate: '전송일자',
};
const CORP_NUM_FIELDS: Record<string, string> = {
  corpNum: '사업자번호',
  franchiseCorpNum: '가맹점 사업자번호',
  invoicerCorpNum: '공급자 사업자번호',
  invoiceeCorpNum: '공급받는자 사업자번호',
};
const NAME_FIELDS: Record<string, string> = {
  invoicerCorpName: '공급자',
  invoiceeCorpName: '공급받는자',
  trusteeCorpName: '수탁자',
  franchiseCorpName: '가맹점',
  customerName: '고객',
  itemName: '품목',
};
const AMOUNT_FIELDS: Record<string, string> = {
  supplyCostTotal: '공급가액 합계',
  taxTotal: '세액 합계',
  totalAmount: '합계금액',
  supplyCost: '공급가액',
  tax: '세액',
  serviceFee: '봉사료',
};
const KEY_FIELDS: Record<string, string> = {
  itemKey: '문서 키',
  ntsConfirmNum: '국세청 승인번호',
  ntsconfirmNum: '국세청 승인번호',
  confirmNum: '국세청 승인번호',
  invoiceNum: '문서번호',
  mgtKey: '관리번호',
  invoicerMgtKey: '공급자 관리번호',
  invoiceeMgtKey: '공급받는자 관리번호',
};
const SKIPPED_FIELDS = new Set(['eventType']);

function scalar(value: JsonValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** "20261110093012" → "2026-11-10 09:30:12 KST"; "20261115" → "2026-11-15"; else unchanged. */
export function formatPopbillDate(value: string): string {
  const long = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (long) return `${long[1]}-${long[2]}-${long[3]} ${long[4]}:${long[5]}:${long[6]} KST`;
  const short = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  return short ? `${short[1]}-${short[2]}-${short[3]}` : value;
}

/** "1012345678" → "101-23-45678". */
export function formatCorpNum(value: string): string {
  const match = /^(\d{3})(\d{2})(\d{5})$/.exec(value);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : value;
}

/** 1234567 → "1,234,567원". */
export function formatAmount(value: string): string {
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(value.trim());
  if (!match) return value;
  return `${match[1]}${match[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${match[3] ?? ''}원`;
}

/** "305" → "발행완료 · 국세청 전송실패"; unknown codes are shown as they are. */
export function describeStateCode(code: string): string {
  if (!/^\d{3}$/.test(code)) return code;
  const document = DOCUMENT_STATES[code[0]];
  const nts = NTS_STATES[code[2]];
  if (!document) return code;
  return nts && code[2] !== '0' ? `${document} · ${nts}` : document;
}

interface Headline {
  what: string;
  outcome: Outcome;
}

function outcomeOfState(code: string | null): Outcome {
  if (!code || !/^\d{3}$/.test(code)) return 'information';
  if (code[0] === '5' || code[0] === '6') return 'cancellation';
  if (code[0] === '4' || code[2] === '5') return 'failure';
  if (code[2] === '4') return 'success';
  return 'information';
}

function ntsHeadline(code: string | null, errorCode: string | null): Headline {
  const last = code && /^\d{3}$/.test(code) ? code[2] : null;
  if (last === '4') return { what: '국세청 전송 성공', outcome: 'success' };
  if (last === '5') {
    const reason = errorCode
      ? ` (${errorCode}${NTS_ERROR_CODES[errorCode] ? ` ${NTS_ERROR_CODES[errorCode]}` : ''})`
      : '';
    return { what: `국세청 전송 실패${reason}`, outcome: 'failure' };
  }
  if (last === '1') return { what: '국세청 전송 대기', outcome: 'information' };
  if (last === '2' || last === '3') return { what: '국세청 전송 중', outcome: 'information' };
  return { what: `국세청 상태 변경 (${code ?? '상태 없음'})`, outcome: outcomeOfState(code) };
}

function headline(
  eventType: string | null,
  code: string | null,
  errorCode: string | null,
): Headline | null {
  switch (eventType) {
    case 'Issue':
      return { what: '발행 완료', outcome: 'success' };
    case 'CancelIssue':
      return { what: '발행 취소', outcome: 'cancellation' };
    case 'Cancel':
      return { what: '취소', outcome: 'cancellation' };
    case 'NTS':
      return ntsHeadline(code, errorCode);
    case 'OPEN':
      return { what: '구매자 열람', outcome: 'information' };
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

export function clip(text: string, max: number): string {
  return text.length <= max
    ? text
    : text.slice(0, max - TRUNCATION_MARKER.length) + TRUNCATION_MARKER;
}

function fieldEntry(key: string, value: string): JandiConnectInfo {
  if (key in DATE_FIELDS) return { title: DATE_FIELDS[key], description: formatPopbillDate(value) };
  if (key in CORP_NUM_FIELDS)
    return { title: CORP_NUM_FIELDS[key], description: formatCorpNum(value) };
  if (key in AMOUNT_FIELDS) return { title: AMOUNT_FIELDS[key], description: formatAmount(value) };
  if (key in NAME_FIELDS) return { title: NAME_FIELDS[key], description: value };
  if (key in KEY_FIELDS) return { title: KEY_FIELDS[key], description: value };
  if (key === 'stateCode')
    return { title: '상태', description: `${value} (${describeStateCode(value)})` };
  if (key === 'ntssendErrCode' || key === 'ntsresultCode') {
    const meaning = NTS_ERROR_CODES[value];
    return { title: '국세청 결과 코드', description: meaning ? `${value} (${meaning})` : value };
  }
  return { title: key, description: value };
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
  ...Object.keys(DATE_FIELDS),
];

/** Keeps the serialized request under JANDI's size limit by dropping trailing entries. */
function fitRequest(message: JandiMessage): JandiMessage {
  const size = (m: JandiMessage) => Buffer.byteLength(JSON.stringify(m), 'utf8');
  if (size(message) <= MAX_REQUEST_BYTES) return message;
  const marker = { title: '생략', description: '메시지 크기 제한으로 나머지 항목을 생략했습니다.' };
  const info = [...message.connectInfo];
  while (
    info.length > 0 &&
    size({ ...message, connectInfo: [...info, marker] }) > MAX_REQUEST_BYTES
  ) {
    info.pop();
  }
  return { ...message, connectInfo: [...info, marker] };
}

/** What one event is: the headline both a single message and a digest entry show. Pure. */
export interface EventHeadline {
  /** Product name, or `Popbill <type>` for a webhook type we do not know. */
  subject: string;
  /** What happened, e.g. "국세청 전송 실패 (SYN004 스키마 오류)". */
  what: string;
  outcome: Outcome;
  /** "문서 <itemKey>, 사업자 <corpNum>" (or the confirmation number); may be empty. */
  about: string;
  itemKey: string | null;
  /** The product and event type are ones we render by name. */
  known: boolean;
}

export function describeEvent(event: PopbillEventJob): EventHeadline {
  const body = event.body;
  const product = PRODUCTS[event.webhookType];
  const code = scalar(body.stateCode);
  const errorCode = scalar(body.ntssendErrCode) ?? scalar(body.ntsresultCode);
  const known = !product
    ? null
    : event.webhookType.startsWith('HT.')
      ? { what: '수집 자료 알림', outcome: 'information' as const }
      : headline(event.eventType, code, errorCode);
  const itemKey = scalar(body.itemKey);
  const confirmNum = scalar(body.ntsConfirmNum) ?? scalar(body.ntsconfirmNum);
  const corpNum = event.corpNum ?? scalar(body.corpNum);

  const what = known
    ? known.what
    : `${event.eventType ? `'${event.eventType}' ` : ''}이벤트 수신${product ? ' (알 수 없는 이벤트 종류)' : ''}`;
  const about = [
    itemKey ? `문서 ${itemKey}` : confirmNum ? `승인번호 ${confirmNum}` : null,
    corpNum ? `사업자 ${formatCorpNum(corpNum)}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  return {
    subject: product ?? `Popbill ${event.webhookType}`,
    what,
    outcome: known?.outcome ?? outcomeOfState(code),
    about,
    itemKey,
    known: known !== null,
  };
}

/** Renders one Popbill event as a Korean JANDI message. Pure. */
export function toJandiMessage(event: PopbillEventJob): JandiMessage {
  const body = event.body;
  const product = PRODUCTS[event.webhookType];
  const { subject, what, outcome, about, known } = describeEvent(event);
  const text = `[${subject}] ${what}${about ? ` · ${about}` : ''}`;

  const keys = Object.keys(body).filter((key) => !SKIPPED_FIELDS.has(key));
  const ordered = [
    ...ORDER.filter((key) => keys.includes(key)),
    ...keys.filter((key) => !ORDER.includes(key)).sort(),
  ];
  const connectInfo: JandiConnectInfo[] = [];
  for (const key of ordered) {
    const value = scalar(body[key]);
    if (value === null) continue;
    const entry = fieldEntry(key, value);
    connectInfo.push({
      title: entry.title,
      description: clip(entry.description, MAX_DESCRIPTION_CHARS),
    });
  }
  if (event.eventType && (!known || event.webhookType.startsWith('HT.')))
    connectInfo.unshift({ title: '이벤트', description: event.eventType });
  if (!product) connectInfo.unshift({ title: '웹훅 종류', description: event.webhookType });
  connectInfo.push({ title: '이벤트 ID', description: event.eventId });

  return fitRequest({
    body: clip(text, MAX_BODY_CHARS),
    connectColor: OUTCOME_COLORS[outcome],
    connectInfo,
  });
}
