/**
 * What Popbill's codes and field names mean, in the Korean an accountant reads. Sources:
 * developers.popbill.com (webhook events and response codes of taxinvoice, statement, cashbill,
 * kakaotalk, httaxinvoice, htcashbill; closedown CheckCorpNum) and docs.popbill.com
 * (taxinvoice ntsResult). A code or value not listed here is shown as it arrived.
 */
import type { SchemaProblem } from '@app/contracts';

/** `table[key]` for the table's own keys only: "constructor" or "__proto__" name nothing. */
export function labelOf(table: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/** Pb-Webhook-Type → product name. */
export const PRODUCTS: Readonly<Record<string, string>> = {
  'TAXINVOICE.STATE': '전자세금계산서',
  'STATEMENT.STATE': '전자명세서',
  'CASHBILL.STATE': '현금영수증',
  'HT.TAXINVOICEXML': '홈택스 전자세금계산서',
  'HT.CASHBILL': '홈택스 현금영수증',
  'KAKAO.STATE': '카카오톡',
};

/** First digit of a document stateCode. */
export const DOCUMENT_STATES: Readonly<Record<string, string>> = {
  '1': '임시저장',
  '2': '승인대기',
  '3': '발행완료',
  '4': '거부',
  '5': '취소',
  '6': '발행취소',
};

/** Last digit of a tax-invoice stateCode: 301 전송전, 302 전송대기, 303 전송중, 304, 305. */
export const NTS_STATES: Readonly<Record<string, string>> = {
  '1': '전송전',
  '2': '전송대기',
  '3': '전송중',
  '4': '전송성공',
  '5': '전송실패',
};

/** Tax invoice `ntssendErrCode`: the NTS filing result (3 letters + 3 digits). */
export const TAX_INVOICE_NTS_RESULTS: Readonly<Record<string, string>> = {
  SUC001: '성공',
  SYN002: '공급자 전자서명 오류',
  SYN003: '국세청 승인번호 중복 등록',
  SYN004: '전자세금계산서 스키마 오류',
  ERR001: '공급자 사업자번호 오류 (국세청 미등록 사업자)',
  ERR002: '공급받는자 사업자번호 오류 (국세청 미등록 사업자 또는 주민등록번호)',
  ERR003: '수탁자 사업자번호 오류 (국세청 미등록 사업자)',
  ERR005: '발행일자 오류',
  ERR006: '작성일자 오류',
  ERR007: '공급가액·세액 오류',
  ERR008: '코드 오류 (공급받는자 사업자번호 구분 또는 수정사유)',
  ERR009: '휴폐업 사업자 발행 오류 (폐업일 이후 발행)',
  ERR010: '국세청 등록번호 불일치 (발행 시스템과 전송 시스템)',
  ERR011: '당초 국세청 승인번호 오류',
};

/** Cash receipt `ntsresultCode`. */
export const CASH_RECEIPT_NTS_RESULTS: Readonly<Record<string, string>> = {
  '0000': '성공',
  TS1: '식별번호 오류 (주민등록번호·사업자번호·휴대폰번호)',
  TS2: '식별번호 오류 (현금영수증 카드번호)',
  TS3: '거래 오류 (국세청 발행 제한 사업자)',
  TS4: '거래금액 오류',
  TS7: '거래 오류 (국세청 미등록 사업자)',
};

/** The NTS filing result code's meaning, for either product; null when not documented. */
export function ntsResultMeaning(code: string): string | null {
  return labelOf(TAX_INVOICE_NTS_RESULTS, code) ?? labelOf(CASH_RECEIPT_NTS_RESULTS, code) ?? null;
}

/** Field → Korean label for fields we know by name; anything else keeps its JSON name. */
export const DATE_FIELDS: Readonly<Record<string, string>> = {
  eventDT: '이벤트 일시',
  stateDT: '상태 변경 일시',
  issueDT: '발행 일시',
  ntssendDT: '국세청 전송 일시',
  ntsresultDT: '국세청 처리 일시',
  tradeDate: '거래일자',
  tradeDT: '거래일시',
  writeDate: '작성일자',
  sendDate: '전송일자',
  closeDownStateDate: '휴폐업 일자',
  receiptDT: '접수 일시',
  reserveDT: '예약 일시',
  sendDT: '전송 일시',
  resultDT: '전송결과 수신 일시',
  altSendDT: '대체문자 전송 일시',
  altResultDT: '대체문자 전송결과 수신 일시',
};
export const CORP_NUM_FIELDS: Readonly<Record<string, string>> = {
  corpNum: '팝빌회원 사업자번호',
  franchiseCorpNum: '가맹점 사업자번호',
  invoicerCorpNum: '공급자 사업자번호',
  invoiceeCorpNum: '공급받는자 사업자번호',
  trusteeCorpNum: '수탁자 사업자번호',
};
export const NAME_FIELDS: Readonly<Record<string, string>> = {
  invoicerCorpName: '공급자',
  invoiceeCorpName: '공급받는자',
  trusteeCorpName: '수탁자',
  franchiseCorpName: '가맹점',
  customerName: '고객',
  itemName: '품목',
};
export const AMOUNT_FIELDS: Readonly<Record<string, string>> = {
  supplyCostTotal: '공급가액 합계',
  taxTotal: '세액 합계',
  totalAmount: '합계금액',
  supplyCost: '공급가액',
  tax: '세액',
  serviceFee: '봉사료',
};
export const KEY_FIELDS: Readonly<Record<string, string>> = {
  ntsConfirmNum: '국세청 승인번호',
  ntsconfirmNum: '국세청 승인번호',
  confirmNum: '국세청 승인번호',
  invoicerMgtKey: '공급자 문서번호',
  mgtKey: '문서번호',
  invoiceeMgtKey: '공급받는자 문서번호',
  trusteeMgtKey: '수탁자 문서번호',
  invoiceNum: '문서 확인번호',
  itemKey: '팝빌 문서키',
  receiptNum: '접수번호',
  requestNum: '요청번호',
  serialNum: '일련번호',
};
/** Fields whose value is one of a few codes; the label table for their values follows. */
export const ENUM_FIELDS: Readonly<Record<string, string>> = {
  taxType: '과세형태',
  issueType: '발행형태',
  purposeType: '영수/청구',
  invoiceType: '문서 유형',
  closeDownState: '휴폐업 상태',
  closeDownTaxType: '과세유형',
  tradeType: '거래유형',
  tradeUsage: '거래구분',
};
/** KakaoTalk result fields, shown as they arrive (their codes are not documented here). */
export const MESSAGE_FIELDS: Readonly<Record<string, string>> = {
  state: '상태코드',
  result: '통신사 결과코드',
  altResult: '대체문자 통신사 결과코드',
  contentType: '전송유형',
  sendNum: '발신번호',
};

/** Closedown CheckCorpNum `taxType`. */
const CORP_TAX_TYPES: Readonly<Record<string, string>> = {
  '10': '일반과세자',
  '20': '면세과세자',
  '30': '간이과세자',
  '31': '간이과세자 (세금계산서 발급사업자)',
  '40': '비영리법인·국가기관 등 고유번호 단체',
};

/**
 * Value labels per enum field. Popbill sends many of these already in Korean (taxType 과세/영세/
 * 면세, issueType 정발행/역발행/위수탁, purposeType 영수/청구/없음, tradeType, tradeUsage): those
 * need no table and are shown as they are.
 */
const ENUM_VALUES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // HT.TAXINVOICEXML invoiceType (httaxinvoice webhook event).
  invoiceType: {
    '101': '일반 세금계산서',
    '102': '영세율 세금계산서',
    '103': '위수탁 세금계산서',
    '104': '수입 세금계산서',
    '105': '위수탁 영세율 세금계산서',
    '201': '수정 세금계산서',
    '202': '수정 영세율 세금계산서',
    '203': '수정 위수탁 세금계산서',
    '204': '수정 수입 세금계산서',
    '205': '수정 위수탁 영세율 세금계산서',
    '301': '일반 계산서 (면세)',
  },
  // Closedown CheckCorpNum `state`.
  closeDownState: { '0': '미등록 사업자', '1': '사업중', '2': '폐업', '3': '휴업' },
  closeDownTaxType: CORP_TAX_TYPES,
  // Tax invoices send 과세/영세/면세; a business-status check sends these codes.
  taxType: CORP_TAX_TYPES,
};

/** "305" → "발행완료 · 국세청 전송실패"; unknown codes are shown as they are. */
export function describeStateCode(code: string): string {
  if (!/^\d{3}$/.test(code)) return code;
  const document = labelOf(DOCUMENT_STATES, code[0]);
  const nts = labelOf(NTS_STATES, code[2]);
  if (!document) return code;
  return nts ? `${document} · 국세청 ${nts}` : document;
}

/** "101" of invoiceType → "101 (일반 세금계산서)"; a value without a label stays as it is. */
export function describeEnum(field: string, value: string): string {
  const values = Object.prototype.hasOwnProperty.call(ENUM_VALUES, field) ? ENUM_VALUES[field] : {};
  const label = labelOf(values, value);
  return label ? `${value} (${label})` : value;
}

/** Korean for ingest's validation problems; an unknown one is shown by its own name. */
const SCHEMA_PROBLEMS: Readonly<Record<SchemaProblem, string>> = {
  missing: '값 없음',
  empty: '빈 값',
  type: '자료형 다름',
  format: '형식 다름',
  length: '길이 다름',
};

/** One ingest flag in Korean: "schema:stateCode:type" → "stateCode 필드: 자료형 다름". */
export function describeFlag(flag: string): string {
  if (flag === 'unknown-event-type') return '알 수 없는 이벤트 종류';
  if (flag === 'unmodelled-webhook-type') return '필드 검증 대상이 아닌 웹훅 종류';
  if (flag === 'unknown-webhook-type') return '알 수 없는 웹훅 종류';
  if (flag === 'missing-webhook-type') return '웹훅 종류(Pb-Webhook-Type) 없음';
  if (flag === 'invalid-webhook-type') return '웹훅 종류(Pb-Webhook-Type) 형식 다름';
  if (flag === 'corpnum-mismatch') return '헤더와 본문의 사업자번호가 다름';
  const schema = /^schema:([^:]*):(.*)$/.exec(flag);
  if (schema) {
    const [, field, problem] = schema;
    return `${field || '본문'} 필드: ${labelOf(SCHEMA_PROBLEMS, problem) ?? problem}`;
  }
  return flag;
}
