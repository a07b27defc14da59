import type { JsonObject, JsonValue, PopbillEventJobV1 } from '@app/contracts';
import { fixtureJob, FIXTURE_NAMES } from '../../test/popbill-fixtures';
import {
  describeStateCode,
  formatAmount,
  formatCorpNum,
  formatPopbillDate,
  MAX_BODY_CHARS,
  MAX_FIELDS,
  MAX_REQUEST_BYTES,
  OMITTED_TITLE,
  OUTCOME_COLORS,
  PROBLEMS_TITLE,
  toJandiMessage,
  TRUNCATION_MARKER,
  type JandiMessage,
} from './to-jandi-message';

const info = (job: PopbillEventJobV1) =>
  Object.fromEntries(toJandiMessage(job).connectInfo.map((e) => [e.title, e.description]));
const fixtureInfo = (name: string) => info(fixtureJob(name));
const withBody = (name: string, body: JsonObject, overrides: Partial<PopbillEventJobV1> = {}) => {
  const job = fixtureJob(name, overrides);
  job.body = { ...job.body, ...body };
  return job;
};
/** Flags as ingest may set them, whichever flag type the contract declares. */
const flags = (...names: string[]) => names as unknown as PopbillEventJobV1['flags'];
const requestBytes = (message: JandiMessage) => Buffer.byteLength(JSON.stringify(message));

/** Every fixture's headline: the product, what happened, the document and the seller. */
const HEADLINES: Record<string, [string, keyof typeof OUTCOME_COLORS]> = {
  'taxinvoice-issue.json': [
    '[전자세금계산서] 발행 완료 · 승인번호 20261110410000001a2b3c4d, 공급자 사업자번호 101-23-45678',
    'success',
  ],
  'taxinvoice-nts-accepted.json': [
    '[전자세금계산서] 국세청 전송 성공 · 승인번호 20261110410000001a2b3c4d, 공급자 사업자번호 101-23-45678',
    'success',
  ],
  'taxinvoice-nts-failed.json': [
    '[전자세금계산서] 국세청 전송 실패 (SYN004 전자세금계산서 스키마 오류) · 승인번호 20261110410000002b3c4d5e, 공급자 사업자번호 101-23-45678',
    'failure',
  ],
  'taxinvoice-nts-pending.json': [
    '[전자세금계산서] 국세청 전송전 · 승인번호 20261111410000007c4d5e6f, 공급자 사업자번호 220-88-12345',
    'information',
  ],
  'taxinvoice-cancel-issue.json': [
    '[전자세금계산서] 발행 취소 · 승인번호 20261110410000003c4d5e6f, 공급자 사업자번호 101-23-45678',
    'cancellation',
  ],
  'taxinvoice-open.json': [
    '[전자세금계산서] 공급받는자 열람 · 승인번호 20261110410000001a2b3c4d, 공급자 사업자번호 101-23-45678',
    'information',
  ],
  'taxinvoice-closedown.json': [
    '[전자세금계산서] 거래처 휴폐업 조회 완료 · 팝빌 문서키 026111009300000001, 공급자 사업자번호 101-23-45678',
    'information',
  ],
  'taxinvoice-manual-rerun.json': [
    '[전자세금계산서] 수동 재실행 (현재 상태: 발행완료 · 국세청 전송실패) · 승인번호 20261110410000002b3c4d5e, 공급자 사업자번호 101-23-45678',
    'failure',
  ],
  'statement-issue.json': [
    '[전자명세서] 발행 완료 · 문서번호 ST-2026-11-0011, 공급자 사업자번호 305-88-12345',
    'success',
  ],
  'cashbill-nts-failed.json': [
    '[현금영수증] 국세청 전송 실패 (1234) · 승인번호 TB0000021, 팝빌회원 사업자번호 410-88-12345',
    'failure',
  ],
  'unknown-type.json': [
    '[홈택스 전자세금계산서] 수집 자료 도착 · 승인번호 20261110410000009d8e7f6a, 팝빌회원 사업자번호 101-23-45678',
    'information',
  ],
};

describe('toJandiMessage: Korean an accountant expects', () => {
  it('has a headline for every fixture', () => {
    expect(Object.keys(HEADLINES).sort()).toEqual([...FIXTURE_NAMES].sort());
  });

  it.each(Object.entries(HEADLINES))('renders %s', (name, [body, outcome]) => {
    const message = toJandiMessage(fixtureJob(name));
    expect(message.body).toBe(body);
    expect(message.connectColor).toBe(OUTCOME_COLORS[outcome]);
  });

  it.each(FIXTURE_NAMES)('%s: a valid JANDI body with Korean labels, nothing flagged', (name) => {
    const message = toJandiMessage(fixtureJob(name));
    expect(message.connectColor).toMatch(/^#[0-9A-F]{6}$/);
    expect(message.body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
    expect(message.body).not.toContain(PROBLEMS_TITLE);
    expect(message.body).not.toContain('알 수 없는');
    expect(message.connectInfo.length).toBeGreaterThan(2);
    for (const entry of message.connectInfo) {
      expect(entry.title).not.toBe('');
      expect(typeof entry.description).toBe('string');
      // Every documented field of the fixtures has a Korean label (Hangul in the title).
      if (entry.title !== 'invoiceType') expect(entry.title).toMatch(/[가-힣]/);
    }
  });

  it('names tax-invoice NTS states 301–305 as Popbill does', () => {
    const nts = (stateCode: number) =>
      toJandiMessage(withBody('taxinvoice-nts-pending.json', { stateCode }));
    expect(nts(301).body).toContain('] 국세청 전송전 ·');
    expect(nts(302).body).toContain('] 국세청 전송대기 ·');
    expect(nts(303).body).toContain('] 국세청 전송중 ·');
    expect(nts(304).body).toContain('] 국세청 전송 성공 ·');
    expect(nts(305).body).toContain('] 국세청 전송 실패 ·');
    expect(describeStateCode('301')).toBe('발행완료 · 국세청 전송전');
    expect(describeStateCode('302')).toBe('발행완료 · 국세청 전송대기');
    expect(describeStateCode('303')).toBe('발행완료 · 국세청 전송중');
    expect(describeStateCode('304')).toBe('발행완료 · 국세청 전송성공');
    expect(describeStateCode('305')).toBe('발행완료 · 국세청 전송실패');
    expect(describeStateCode('600')).toBe('발행취소');
  });

  it.each([
    ['ERR002', '공급받는자 사업자번호 오류'],
    ['ERR007', '공급가액·세액 오류'],
    ['ERR009', '휴폐업 사업자 발행 오류'],
    ['ERR011', '당초 국세청 승인번호 오류'],
    ['SYN003', '국세청 승인번호 중복 등록'],
  ])('gives tax-invoice result code %s its meaning', (code, meaning) => {
    const job = withBody('taxinvoice-nts-failed.json', { ntssendErrCode: code });
    expect(toJandiMessage(job).body).toContain(`국세청 전송 실패 (${code} ${meaning}`);
    expect(info(job)['국세청 결과 코드']).toContain(`${code} (${meaning}`);
  });

  it.each([
    ['TS1', '식별번호 오류 (주민등록번호·사업자번호·휴대폰번호)'],
    ['TS4', '거래금액 오류'],
    ['TS7', '거래 오류 (국세청 미등록 사업자)'],
    ['0000', '성공'],
  ])('gives cash-receipt result code %s its meaning', (code, meaning) => {
    const job = withBody('cashbill-nts-failed.json', { ntsresultCode: code });
    expect(info(job)['국세청 결과 코드']).toBe(`${code} (${meaning})`);
  });

  it('shows an undocumented result code as it arrived', () => {
    expect(fixtureInfo('cashbill-nts-failed.json')['국세청 결과 코드']).toBe('1234');
    const job = withBody('taxinvoice-nts-failed.json', { ntssendErrCode: 'ERR999' });
    expect(toJandiMessage(job).body).toContain('국세청 전송 실패 (ERR999) ·');
  });

  it('says whose business number it is and shows the document numbers, itemKey as a detail', () => {
    expect(fixtureInfo('taxinvoice-nts-failed.json')).toMatchObject({
      '국세청 승인번호': '20261110410000002b3c4d5e',
      '팝빌 문서키': '026111009300000002',
      '공급자 사업자번호': '101-23-45678',
      상태: '305 (발행완료 · 국세청 전송실패)',
      '국세청 결과 코드': 'SYN004 (전자세금계산서 스키마 오류)',
      '국세청 처리 일시': '2026-11-11 10:17:00 KST',
    });
    expect(fixtureInfo('cashbill-nts-failed.json')).toMatchObject({
      '국세청 승인번호': 'TB0000021',
      '가맹점 사업자번호': '410-88-12345',
      '팝빌회원 사업자번호': '410-88-12345',
      거래일자: '2026-11-15',
    });
    expect(fixtureInfo('statement-issue.json')).toMatchObject({
      상태: '300 (발행완료)',
      문서번호: 'ST-2026-11-0011',
    });
    const own = withBody('taxinvoice-closedown.json', { invoicerMgtKey: 'INV-2026-001' });
    expect(toJandiMessage(own).body).toContain('· 문서번호 INV-2026-001, 공급자 사업자번호');
  });

  it('says 수신자 열람 for statements and 공급받는자 열람 for tax invoices', () => {
    const statementOpen = fixtureJob('statement-issue.json', { eventType: 'OPEN' });
    expect(toJandiMessage(statementOpen).body).toMatch(/^\[전자명세서\] 수신자 열람 · /);
    expect(toJandiMessage(fixtureJob('taxinvoice-open.json')).body).toMatch(
      /^\[전자세금계산서\] 공급받는자 열람 · /,
    );
  });

  it('names documented products we do not model, with their fields and enum labels', () => {
    const kakao = fixtureJob('taxinvoice-issue.json', {
      webhookType: 'KAKAO.STATE',
      eventType: 'RESULT',
      flags: flags('unmodelled-webhook-type'),
    });
    kakao.body = {
      eventType: 'RESULT',
      corpNum: '1012345678',
      receiptNum: '026111009000000001',
      serialNum: 1,
      state: 3,
      result: 100,
      sendNum: '07043042991',
      receiptDT: '20261110090000',
      resultDT: '20261110090005',
    };
    const message = toJandiMessage(kakao);
    expect(message.body).toBe(
      '[카카오톡] 전송 결과 · 접수번호 026111009000000001, 팝빌회원 사업자번호 101-23-45678',
    );
    expect(info(kakao)).toMatchObject({
      접수번호: '026111009000000001',
      상태코드: '3',
      '통신사 결과코드': '100',
      발신번호: '07043042991',
      '접수 일시': '2026-11-10 09:00:00 KST',
    });

    const hometax = fixtureJob('unknown-type.json', {
      webhookType: 'HT.CASHBILL',
      eventType: 'HTCashbill',
    });
    hometax.body = {
      ntsconfirmNum: 'TB0000099',
      tradeType: '승인거래',
      tradeUsage: '지출증빙용',
      totalAmount: '11000',
    };
    expect(toJandiMessage(hometax).body).toBe(
      '[홈택스 현금영수증] 수집 자료 도착 · 승인번호 TB0000099, 팝빌회원 사업자번호 101-23-45678',
    );
    expect(info(hometax)).toMatchObject({
      거래유형: '승인거래',
      거래구분: '지출증빙용',
      합계금액: '11,000원',
    });
    expect(fixtureInfo('unknown-type.json')).toMatchObject({
      '문서 유형': '101 (일반 세금계산서)',
      작성일자: '2026-11-10',
    });
  });

  it('labels enum fields: tax type, issue type, purpose, business status', () => {
    const job = withBody('taxinvoice-closedown.json', {
      taxType: '과세',
      issueType: '정발행',
      purposeType: '영수',
      closeDownState: 2,
      closeDownStateDate: '20261101',
      closeDownTaxType: '31',
    });
    expect(info(job)).toMatchObject({
      과세형태: '과세',
      발행형태: '정발행',
      '영수/청구': '영수',
      '휴폐업 상태': '2 (폐업)',
      '휴폐업 일자': '2026-11-01',
      과세유형: '31 (간이과세자 (세금계산서 발급사업자))',
    });
  });

  it('shows company names and amounts with thousands separators', () => {
    const entries = toJandiMessage(
      withBody('taxinvoice-issue.json', {
        invoicerCorpName: '(주)팝빌',
        totalAmount: 1234567,
        taxTotal: '112233',
      }),
    ).connectInfo;
    expect(entries).toContainEqual({ title: '공급자', description: '(주)팝빌' });
    expect(entries).toContainEqual({ title: '합계금액', description: '1,234,567원' });
    expect(entries).toContainEqual({ title: '세액 합계', description: '112,233원' });
  });
});

describe('toJandiMessage: flagged and unknown events', () => {
  it('says 형식 확인 필요, lists the flags in Korean and every field it received', () => {
    const job = fixtureJob('taxinvoice-issue.json', {
      flags: flags('schema:stateCode:type', 'corpnum-mismatch', 'schema:eventDT:format'),
    });
    job.body = {
      ...job.body,
      stateCode: 'three hundred',
      ntssendDT: null,
      memo: '',
      extra: { nested: [1, 2, { deep: true }] },
      huge: 'x'.repeat(50_000),
    };
    const message = toJandiMessage(job);
    expect(message.body).toMatch(/^\[전자세금계산서\] 발행 완료 · .* · 형식 확인 필요$/);
    const fields = info(job);
    expect(fields[PROBLEMS_TITLE]).toBe(
      'stateCode 필드: 자료형 다름, 헤더와 본문의 사업자번호가 다름, eventDT 필드: 형식 다름',
    );
    expect(message.connectInfo[0].title).toBe(PROBLEMS_TITLE);
    expect(fields).toMatchObject({
      상태: 'three hundred',
      '국세청 전송 일시': '(없음)',
      memo: '(빈 값)',
      extra: '{"nested":[1,2,{"deep":true}]}',
    });
    expect(fields.huge.length).toBeLessThanOrEqual(1000);
    expect(fields.huge.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('shows an unknown schema problem and an unknown flag by their own names', () => {
    const job = fixtureJob('taxinvoice-issue.json', {
      flags: flags('schema:itemKey:weird-thing', 'brand-new-flag'),
    });
    expect(info(job)[PROBLEMS_TITLE]).toBe('itemKey 필드: weird-thing, brand-new-flag');
  });

  it('says so for an unknown event type of a known product', () => {
    const job = fixtureJob('taxinvoice-issue.json', { eventType: 'Reissue' });
    const message = toJandiMessage(job);
    expect(message.body).toContain(
      "[전자세금계산서] 'Reissue' 이벤트 수신 (알 수 없는 이벤트 종류)",
    );
    expect(info(job)).toMatchObject({
      [PROBLEMS_TITLE]: '알 수 없는 이벤트 종류',
      이벤트: 'Reissue',
    });
  });

  it('lists the fields of an unknown webhook type by their JSON names', () => {
    const odd = fixtureJob('taxinvoice-issue.json', {
      webhookType: 'FAX.RESULT',
      eventType: 'Sent',
      flags: flags('unmodelled-webhook-type'),
    });
    odd.body = { ...odd.body, pageCount: 3 };
    const message = toJandiMessage(odd);
    expect(message.body).toContain("[Popbill FAX.RESULT] 'Sent' 이벤트 수신");
    expect(message.body).toContain(PROBLEMS_TITLE);
    expect(message.connectInfo.slice(0, 3)).toEqual([
      { title: PROBLEMS_TITLE, description: '알 수 없는 웹훅 종류' },
      { title: '웹훅 종류', description: 'FAX.RESULT' },
      { title: '이벤트', description: 'Sent' },
    ]);
    expect(info(odd)).toMatchObject({ pageCount: '3', '이벤트 ID': odd.eventId });
  });
});

/** A small seeded generator, so a failing case is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_KEYS = [
  'stateCode',
  'itemKey',
  'corpNum',
  'eventDT',
  'ntssendErrCode',
  'ntsresultCode',
  'totalAmount',
  'invoiceType',
  'closeDownState',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  '',
  '[[x]](https://e.example)',
  '한글키',
];
const ODD_STRINGS = [
  '',
  ' ',
  '305',
  'SYN004',
  'constructor',
  '20261110093012',
  '[[계좌 변경 안내]](https://evil.example/pay)',
  'line\nbreak\u202e',
  '\ud83d',
  '0'.repeat(20_000),
];

function oddValue(next: () => number, depth: number): JsonValue {
  const pick = Math.floor(next() * (depth > 2 ? 5 : 7));
  if (pick === 0) return null;
  if (pick === 1) return next() < 0.5;
  if (pick === 2) return [0, -1, 1e308, 3.5, 305, Number.MAX_SAFE_INTEGER][Math.floor(next() * 6)];
  if (pick === 3 || pick === 4) {
    const base = ODD_STRINGS[Math.floor(next() * ODD_STRINGS.length)];
    return next() < 0.05 ? base.repeat(30) : base;
  }
  if (pick === 5)
    return Array.from({ length: Math.floor(next() * 4) }, () => oddValue(next, depth + 1));
  return oddBody(next, depth + 1);
}

function oddBody(next: () => number, depth = 0): JsonObject {
  const body: JsonObject = {};
  const count = Math.floor(next() * (depth === 0 ? 12 : 4));
  for (let i = 0; i < count; i++) {
    const key = next() < 0.6 ? ODD_KEYS[Math.floor(next() * ODD_KEYS.length)] : `k${i}`;
    Object.defineProperty(body, key, {
      value: oddValue(next, depth),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return body;
}

describe('toJandiMessage: chat markup from a webhook', () => {
  const LINK = '[[계좌 변경 안내]](https://evil.example/pay)';

  it('neutralises links in body fields, unknown fields, headers and event ids, readably', () => {
    const job = fixtureJob('taxinvoice-issue.json', {
      webhookType: `NEW.${LINK}`,
      eventType: LINK,
      corpNum: LINK,
      eventId: LINK,
    });
    job.body = {
      ...job.body,
      itemKey: LINK,
      ntsConfirmNum: LINK,
      [LINK]: `see www.evil.example ${LINK}`,
    };
    const message = toJandiMessage(job);
    const text = JSON.stringify(message);
    expect(text).not.toContain('[[');
    expect(text).not.toContain('](');
    expect(text).not.toContain('://');
    expect(text).not.toContain('www.');
    expect(message.body).toContain('［［계좌 변경 안내]］(https:／／evil.example/pay)');
    expect(info(job)['［［계좌 변경 안내]］(https:／／evil.example/pay)']).toBe(
      'see www．evil.example ［［계좌 변경 안내]］(https:／／evil.example/pay)',
    );
  });

  it('keeps a value on its own line: no line breaks or direction overrides from a webhook', () => {
    const job = withBody('taxinvoice-issue.json', {
      ntsConfirmNum: 'A1\n\n[알림] 계좌 변경\u202e',
    });
    expect(toJandiMessage(job).body).toContain('승인번호 A1  [알림] 계좌 변경,');
  });
});

describe('toJandiMessage: never throws', () => {
  const TYPES = [
    'TAXINVOICE.STATE',
    'CASHBILL.STATE',
    'KAKAO.STATE',
    'HT.CASHBILL',
    'constructor',
    '',
  ];
  const EVENTS = ['Issue', 'NTS', 'OPEN', 'MANUAL', 'RESULT', 'constructor', '', null];

  it('renders 500 odd events within JANDI limits, with no live markup', () => {
    const next = random(20261110);
    for (let i = 0; i < 500; i++) {
      const job = fixtureJob('taxinvoice-issue.json', {
        webhookType: TYPES[Math.floor(next() * TYPES.length)],
        eventType: EVENTS[Math.floor(next() * EVENTS.length)],
        corpNum: next() < 0.5 ? null : '[[x]](http://e.example)',
        flags: next() < 0.5 ? [] : flags('schema:stateCode:type', 'corpnum-mismatch'),
      });
      job.body = oddBody(next);
      let message: JandiMessage | undefined;
      expect(() => (message = toJandiMessage(job))).not.toThrow();
      if (!message) throw new Error('no message');
      expect(message.body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
      expect(requestBytes(message)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
      expect(message.connectColor).toMatch(/^#[0-9A-F]{6}$/);
      for (const entry of message.connectInfo) {
        expect(typeof entry.title).toBe('string');
        expect(entry.title).not.toBe('');
        expect(typeof entry.description).toBe('string');
      }
      const text = JSON.stringify(message);
      expect(text).not.toContain('[[');
      expect(text).not.toContain('](');
      expect(text).not.toContain('://');
    }
  });

  it('renders an empty body and a body with no known field', () => {
    const empty = fixtureJob('taxinvoice-issue.json', { corpNum: null, eventType: null });
    empty.body = {};
    const message = toJandiMessage(empty);
    expect(message.body).toContain('[전자세금계산서] 이벤트 수신 (알 수 없는 이벤트 종류)');
    expect(message.connectInfo.at(-1)).toEqual({ title: '이벤트 ID', description: empty.eventId });
  });
});

describe('toJandiMessage: size', () => {
  it('cuts a long body with a visible marker and keeps the request under 256 KB', () => {
    const job = fixtureJob('unknown-type.json', { webhookType: 'X'.repeat(300_000) });
    job.body = Object.fromEntries(
      Array.from({ length: 400 }, (_, i) => [`f${i}`, '한'.repeat(2000)]),
    );
    const message = toJandiMessage(job);
    expect(message.body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
    expect(requestBytes(message)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    const omitted = message.connectInfo.find((e) => e.title === OMITTED_TITLE);
    expect(omitted?.description).toMatch(/나머지 \d+개 항목/);
    // The event id survives trimming: it is how a message is traced back to its event.
    expect(message.connectInfo.at(-1)).toEqual({ title: '이벤트 ID', description: job.eventId });
  });

  it('serialises an oversized message once, not once per dropped entry', () => {
    const job = fixtureJob('unknown-type.json');
    job.body = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`field${i}`, 'y'.repeat(200)]),
    );
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      const message = toJandiMessage(job);
      const wholeMessages = stringify.mock.calls.filter(
        ([value]) => typeof value === 'object' && value !== null && 'connectInfo' in value,
      );
      expect(wholeMessages.length).toBeLessThanOrEqual(1);
      // Entries considered are capped: the rest is counted, not rendered.
      expect(message.connectInfo.length).toBeLessThanOrEqual(MAX_FIELDS + 4);
      expect(message.connectInfo.find((e) => e.title === OMITTED_TITLE)?.description).toContain(
        `나머지 ${3000 - MAX_FIELDS}개 항목`,
      );
    } finally {
      stringify.mockRestore();
    }
  });
});

describe('formatters', () => {
  it('formats dates, business numbers, amounts and states', () => {
    expect(formatPopbillDate('20261110093012')).toBe('2026-11-10 09:30:12 KST');
    expect(formatPopbillDate('20261115')).toBe('2026-11-15');
    expect(formatPopbillDate('soon')).toBe('soon');
    expect(formatCorpNum('1012345678')).toBe('101-23-45678');
    expect(formatAmount('-1000000')).toBe('-1,000,000원');
    expect(formatAmount('12.5')).toBe('12.5원');
    expect(describeStateCode('314')).toBe('발행완료 · 국세청 전송성공');
    expect(describeStateCode('999')).toBe('999');
  });
});
