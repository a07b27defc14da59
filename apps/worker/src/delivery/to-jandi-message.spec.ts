import { fixtureJob, FIXTURE_NAMES } from '../../test/popbill-fixtures';
import {
  describeStateCode,
  formatAmount,
  formatCorpNum,
  formatPopbillDate,
  MAX_BODY_CHARS,
  MAX_REQUEST_BYTES,
  OUTCOME_COLORS,
  toJandiMessage,
  TRUNCATION_MARKER,
} from './to-jandi-message';

const info = (name: string) =>
  Object.fromEntries(
    toJandiMessage(fixtureJob(name)).connectInfo.map((e) => [e.title, e.description]),
  );

describe('toJandiMessage', () => {
  it.each([
    [
      'taxinvoice-issue.json',
      '[전자세금계산서] 발행 완료 · 문서 026111009300000001, 사업자 101-23-45678',
      'success',
    ],
    [
      'taxinvoice-nts-accepted.json',
      '[전자세금계산서] 국세청 전송 성공 · 문서 026111009300000001, 사업자 101-23-45678',
      'success',
    ],
    [
      'taxinvoice-nts-failed.json',
      '[전자세금계산서] 국세청 전송 실패 (SYN004 스키마 오류) · 문서 026111009300000002, 사업자 101-23-45678',
      'failure',
    ],
    [
      'taxinvoice-nts-pending.json',
      '[전자세금계산서] 국세청 전송 대기 · 문서 026111108590000007, 사업자 220-88-12345',
      'information',
    ],
    [
      'taxinvoice-cancel-issue.json',
      '[전자세금계산서] 발행 취소 · 문서 026111009300000003, 사업자 101-23-45678',
      'cancellation',
    ],
    [
      'taxinvoice-open.json',
      '[전자세금계산서] 구매자 열람 · 문서 026111009300000001, 사업자 101-23-45678',
      'information',
    ],
    [
      'taxinvoice-closedown.json',
      '[전자세금계산서] 거래처 휴폐업 조회 완료 · 문서 026111009300000001, 사업자 101-23-45678',
      'information',
    ],
    [
      'taxinvoice-manual-rerun.json',
      '[전자세금계산서] 수동 재실행 (현재 상태: 발행완료 · 국세청 전송실패) · 문서 026111009300000002, 사업자 101-23-45678',
      'failure',
    ],
    [
      'statement-issue.json',
      '[전자명세서] 발행 완료 · 문서 026111510595900011, 사업자 305-88-12345',
      'success',
    ],
    [
      'cashbill-nts-failed.json',
      '[현금영수증] 국세청 전송 실패 (1234) · 문서 026111609000000021, 사업자 410-88-12345',
      'failure',
    ],
    [
      'unknown-type.json',
      '[홈택스 전자세금계산서 수집] 수집 자료 알림 · 승인번호 20261110410000009d8e7f6a, 사업자 101-23-45678',
      'information',
    ],
  ] as const)('renders %s', (name, body, outcome) => {
    const message = toJandiMessage(fixtureJob(name));
    expect(message.body).toBe(body);
    expect(message.connectColor).toBe(OUTCOME_COLORS[outcome]);
  });

  it('covers every fixture with a valid JANDI body', () => {
    expect(FIXTURE_NAMES.length).toBeGreaterThanOrEqual(11);
    for (const name of FIXTURE_NAMES) {
      const message = toJandiMessage(fixtureJob(name));
      expect(message.connectColor).toMatch(/^#[0-9A-F]{6}$/);
      expect(message.body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
      expect(message.connectInfo.length).toBeGreaterThan(2);
      for (const entry of message.connectInfo) {
        expect(entry.title).not.toBe('');
        expect(typeof entry.description).toBe('string');
      }
    }
  });

  it('lists the useful fields with people-friendly formats', () => {
    expect(info('taxinvoice-nts-failed.json')).toMatchObject({
      '문서 키': '026111009300000002',
      '국세청 승인번호': '20261110410000002b3c4d5e',
      사업자번호: '101-23-45678',
      상태: '305 (발행완료 · 국세청 전송실패)',
      '국세청 결과 코드': 'SYN004 (스키마 오류)',
      '국세청 처리 일시': '2026-11-11 10:17:00 KST',
    });
    expect(info('cashbill-nts-failed.json')).toMatchObject({
      '국세청 승인번호': 'TB0000021',
      '가맹점 사업자번호': '410-88-12345',
      거래일자: '2026-11-15',
    });
    expect(info('statement-issue.json')).toMatchObject({
      상태: '300 (발행완료)',
      관리번호: 'ST-2026-11-0011',
    });
  });

  it('lists the fields of an unknown type, including unmodelled ones', () => {
    expect(info('unknown-type.json')).toMatchObject({
      이벤트: 'HTTaxinvoice',
      '국세청 승인번호': '20261110410000009d8e7f6a',
      작성일자: '2026-11-10',
      invoiceType: '101',
    });
    const odd = toJandiMessage(
      fixtureJob('taxinvoice-issue.json', { webhookType: 'FAX.RESULT', eventType: 'Sent' }),
    );
    expect(odd.body).toContain("[Popbill FAX.RESULT] 'Sent' 이벤트 수신");
    expect(odd.connectInfo[0]).toEqual({ title: '웹훅 종류', description: 'FAX.RESULT' });
  });

  it('shows company names and amounts with thousands separators', () => {
    const job = fixtureJob('taxinvoice-issue.json');
    job.body = {
      ...job.body,
      invoicerCorpName: '(주)팝빌',
      totalAmount: 1234567,
      taxTotal: '112233',
    };
    const entries = toJandiMessage(job).connectInfo;
    expect(entries).toContainEqual({ title: '공급자', description: '(주)팝빌' });
    expect(entries).toContainEqual({ title: '합계금액', description: '1,234,567원' });
    expect(entries).toContainEqual({ title: '세액 합계', description: '112,233원' });
  });

  it('cuts a long body with a visible marker and keeps the request under 256 KB', () => {
    const job = fixtureJob('unknown-type.json', { webhookType: 'X'.repeat(300_000) });
    job.body = Object.fromEntries(
      Array.from({ length: 400 }, (_, i) => [`f${i}`, 'y'.repeat(2000)]),
    );
    const message = toJandiMessage(job);
    expect(message.body.length).toBe(MAX_BODY_CHARS);
    expect(message.body.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(message.connectInfo.at(-1)?.title).toBe('생략');
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
