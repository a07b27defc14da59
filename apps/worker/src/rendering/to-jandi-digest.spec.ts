import type { PopbillEventJobV1 } from '@app/contracts';
import { fixtureJob } from '../../test/popbill-fixtures';
import { describeForJandi } from './to-jandi-message';
import {
  compactLine,
  FAILURE_MARK,
  fitsJandi,
  summaryLine,
  toJandiDigest,
} from './to-jandi-digest';
import {
  MAX_BODY_CHARS,
  MAX_REQUEST_BYTES,
  OUTCOME_COLORS,
  toJandiMessage,
} from './to-jandi-message';

const event = (fixture: string, i: number): PopbillEventJobV1 => {
  const job = fixtureJob(fixture, { eventId: `${fixture}-${i}` });
  const key = String(i).padStart(17, '0');
  job.body = { ...job.body, itemKey: `K${key}`, ntsConfirmNum: `N${key}`, confirmNum: `C${key}` };
  return job;
};
const many = (fixture: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => event(fixture, from + i));

describe('toJandiDigest', () => {
  it('renders a single event exactly as its own message', () => {
    const only = event('taxinvoice-nts-failed.json', 1);
    expect(toJandiDigest([only])).toEqual({ message: toJandiMessage(only), shown: [only] });
  });

  it('reads top down: the summary line, then every failure in full, then a compact line per success', () => {
    const events = [
      ...many('taxinvoice-issue.json', 5),
      ...many('taxinvoice-nts-accepted.json', 3, 100),
      ...many('taxinvoice-nts-failed.json', 2, 200),
    ];
    const { message, shown } = toJandiDigest(events);
    expect(shown).toHaveLength(10);
    expect(message.body).toBe(
      '[전자세금계산서] 국세청 전송 실패 2건 · 발행 완료 5건 · 국세청 전송 성공 3건 (총 10건)',
    );
    expect(message.connectColor).toBe(OUTCOME_COLORS.failure);
    expect(message.connectInfo).toEqual([
      {
        title: `${FAILURE_MARK} 국세청 전송 실패 (SYN004 전자세금계산서 스키마 오류)`,
        description:
          '승인번호 N00000000000000200, 공급자 사업자번호 101-23-45678 · 2026-11-11 10:17:02',
      },
      expect.objectContaining({
        title: `${FAILURE_MARK} 국세청 전송 실패 (SYN004 전자세금계산서 스키마 오류)`,
      }),
      {
        title: '발행 완료 5건 (승인번호 사업자번호)',
        description: [0, 1, 2, 3, 4].map((i) => `N0000000000000000${i} 101-23-45678`).join('\n'),
      },
      {
        title: '국세청 전송 성공 3건 (승인번호 사업자번호)',
        description: [100, 101, 102].map((i) => `N00000000000000${i} 101-23-45678`).join('\n'),
      },
    ]);
    // Every shown event's confirmation number is in the message once.
    for (const e of shown)
      expect(JSON.stringify(message).split(String(e.body.ntsConfirmNum)).length - 1).toBe(1);
  });

  it('names the products when several are mixed', () => {
    const { message } = toJandiDigest([
      event('cashbill-nts-failed.json', 1),
      event('statement-issue.json', 2),
      event('statement-issue.json', 3),
    ]);
    expect(message.body).toBe(
      '[현금영수증 · 전자명세서] 현금영수증 국세청 전송 실패 1건 · 전자명세서 발행 완료 2건 (총 3건)',
    );
    expect(message.connectInfo[0].title).toBe(
      `${FAILURE_MARK} [현금영수증] 국세청 전송 실패 (1234)`,
    );
    expect(message.connectInfo[1].title).toBe('전자명세서 발행 완료 2건 (승인번호 사업자번호)');
  });

  it('never says a word twice in its header, mixed products included', () => {
    const hometax = many('unknown-type.json', 2);
    const alone = toJandiDigest(hometax).message.body;
    expect(alone).toBe('[홈택스 전자세금계산서] 수집 자료 도착 2건 (총 2건)');
    const mixed = toJandiDigest([...hometax, event('statement-issue.json', 9)]).message.body;
    expect(mixed).toBe(
      '[홈택스 전자세금계산서 · 전자명세서] 홈택스 전자세금계산서 수집 자료 도착 2건 · 전자명세서 발행 완료 1건 (총 3건)',
    );
    for (const body of [alone, mixed]) {
      const words = body.split(/[\s·[\]]+/).filter(Boolean);
      for (let i = 1; i < words.length; i++) expect(words[i]).not.toBe(words[i - 1]);
    }
  });

  it('neutralises chat markup from webhooks and marks flagged events', () => {
    const link = '[[계좌 변경 안내]](https://evil.example/pay)';
    const events = [
      { ...event('taxinvoice-issue.json', 1), webhookType: `X.${link}`, eventType: link },
      { ...event('taxinvoice-issue.json', 2), eventId: link },
      event('taxinvoice-issue.json', 3),
    ];
    events[2].flags = ['corpnum-mismatch'] as unknown as PopbillEventJobV1['flags'];
    events[2].body = { ...events[2].body, ntsConfirmNum: link, eventDT: link };
    const { message, shown } = toJandiDigest(events);
    expect(shown).toHaveLength(3);
    const text = JSON.stringify(message);
    expect(text).not.toContain('[[');
    expect(text).not.toContain('](');
    expect(text).not.toContain('://');
    expect(text).toContain('계좌 변경 안내');
    expect(message.connectInfo.map((e) => e.description).join('\n')).toContain('형식 확인 필요');
  });

  it('shows only what JANDI displays in full and leaves the rest for later, failures kept', () => {
    const events = [
      ...many('taxinvoice-issue.json', 400),
      ...many('taxinvoice-nts-failed.json', 3, 900),
    ];
    const { message, shown } = toJandiDigest(events);
    expect(shown.length).toBeGreaterThan(100);
    expect(shown.length).toBeLessThan(events.length);
    expect(fitsJandi(message)).toBe(true);
    const visible =
      message.body.length +
      message.connectInfo.reduce((n, e) => n + e.title.length + e.description.length, 0);
    expect(visible).toBeLessThanOrEqual(MAX_BODY_CHARS);
    // One more event would not have fitted.
    expect(visible + `N00000000000000400 101-23-45678`.length + 1).toBeGreaterThan(MAX_BODY_CHARS);
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(shown.slice(0, 3).map((e) => e.eventId)).toEqual(
      events.slice(400).map((e) => e.eventId),
    );
    expect(message.body).toBe(
      `[전자세금계산서] 국세청 전송 실패 3건 · 발행 완료 ${shown.length - 3}건 (총 ${shown.length}건)`,
    );
    expect(message.connectInfo).toHaveLength(4);
    expect(message.connectInfo[3].description.split('\n')).toHaveLength(shown.length - 3);
  });

  it('fits the month-end mix of real NTS numbers densely enough for 10,000 events in 2.5 min', () => {
    // Real NTS confirmation numbers have 24 characters; 1 in 100 events is a filing failure.
    const events = Array.from({ length: 300 }, (_, i) => {
      const e = event(i % 100 === 99 ? 'taxinvoice-nts-failed.json' : 'taxinvoice-issue.json', i);
      e.body = { ...e.body, ntsConfirmNum: `20261110410${String(i).padStart(13, '0')}` };
      return e;
    });
    // The messages 60/1m,500/10m allow in 2 min carry 9,940 events at 56 each (digest-policy.spec).
    expect(toJandiDigest(events).shown.length).toBeGreaterThanOrEqual(56);
  });

  it('clips long facts so that many events still fit', () => {
    const long = many('unknown-type.json', 20).map((e) => ({
      ...e,
      corpNum: null,
      body: { eventDT: 'x'.repeat(2000) },
    }));
    const { message, shown } = toJandiDigest(long);
    expect(shown.length).toBeGreaterThanOrEqual(9);
    expect(fitsJandi(message)).toBe(true);
  });

  it('gives each success a compact line naming its document and company', () => {
    const issued = event('taxinvoice-issue.json', 7);
    expect(compactLine(describeForJandi(issued), issued.eventId)).toBe(
      'N00000000000000007 101-23-45678',
    );
    // Without an NTS confirmation number the line says which number it shows.
    const own = {
      ...issued,
      body: { ...issued.body, ntsConfirmNum: null, confirmNum: null, invoicerMgtKey: 'INV-7' },
    };
    expect(compactLine(describeForJandi(own), own.eventId)).toBe('문서번호 INV-7 101-23-45678');
    const bare = { ...issued, corpNum: null, body: {} };
    expect(compactLine(describeForJandi(bare), bare.eventId)).toBe(`이벤트 ID ${issued.eventId}`);
    const link = {
      ...issued,
      body: { ...issued.body, ntsConfirmNum: '[[x]](https://evil.example)' },
    };
    expect(compactLine(describeForJandi(link), link.eventId)).not.toMatch(/\]\(|:\/\//);
  });

  it('sums up kinds with thousands separators, failures first whatever their count', () => {
    const of = (fixture: string) => {
      const headline = describeForJandi(event(fixture, 1));
      return { headline, failure: headline.outcome === 'failure' };
    };
    const entries = [
      ...Array.from({ length: 9950 }, () => of('taxinvoice-issue.json')),
      ...Array.from({ length: 12 }, () => of('taxinvoice-nts-failed.json')),
      of('taxinvoice-nts-accepted.json'),
    ];
    expect(summaryLine(entries, false)).toBe(
      '국세청 전송 실패 12건 · 발행 완료 9,950건 · 국세청 전송 성공 1건',
    );
  });
});
