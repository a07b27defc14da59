import type { PopbillEventJobV1 } from '@app/contracts';
import { fixtureJob } from '../../test/popbill-fixtures';
import { FAILURE_MARK, fitsJandi, toJandiDigest } from './to-jandi-digest';
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

  it('summarises counts per kind, failures first, and leads with the failures', () => {
    const events = [
      ...many('taxinvoice-issue.json', 5),
      ...many('taxinvoice-nts-accepted.json', 3, 100),
      ...many('taxinvoice-nts-failed.json', 2, 200),
    ];
    const { message, shown } = toJandiDigest(events);
    expect(shown).toHaveLength(10);
    expect(message.body).toBe(
      '[전자세금계산서] 알림 10건 묶음 · 국세청 전송 실패 2 · 발행 완료 5 · 국세청 전송 성공 3',
    );
    expect(message.connectColor).toBe(OUTCOME_COLORS.failure);
    expect(message.connectInfo.slice(0, 2)).toEqual([
      {
        title: `${FAILURE_MARK} 국세청 전송 실패 (SYN004 전자세금계산서 스키마 오류)`,
        description:
          '승인번호 N00000000000000200, 공급자 사업자번호 101-23-45678 · 2026-11-11 10:17:02',
      },
      expect.objectContaining({
        title: `${FAILURE_MARK} 국세청 전송 실패 (SYN004 전자세금계산서 스키마 오류)`,
      }),
    ]);
    expect(message.connectInfo[2].title).toBe('발행 완료');
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
      '[현금영수증 · 전자명세서] 알림 3건 묶음 · 현금영수증 국세청 전송 실패 1 · 전자명세서 발행 완료 2',
    );
    expect(message.connectInfo[0].title).toBe(
      `${FAILURE_MARK} [현금영수증] 국세청 전송 실패 (1234)`,
    );
  });

  it('never says a word twice in its header, mixed products included', () => {
    const hometax = many('unknown-type.json', 2);
    const alone = toJandiDigest(hometax).message.body;
    expect(alone).toBe('[홈택스 전자세금계산서] 알림 2건 묶음 · 수집 자료 도착 2');
    const mixed = toJandiDigest([...hometax, event('statement-issue.json', 9)]).message.body;
    expect(mixed).toBe(
      '[홈택스 전자세금계산서 · 전자명세서] 알림 3건 묶음 · 홈택스 전자세금계산서 수집 자료 도착 2 · 전자명세서 발행 완료 1',
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
    expect(shown.length).toBeGreaterThan(30);
    expect(shown.length).toBeLessThan(events.length);
    expect(fitsJandi(message)).toBe(true);
    const visible =
      message.body.length +
      message.connectInfo.reduce((n, e) => n + e.title.length + e.description.length, 0);
    expect(visible).toBeLessThanOrEqual(MAX_BODY_CHARS);
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(shown.slice(0, 3).map((e) => e.eventId)).toEqual(
      events.slice(400).map((e) => e.eventId),
    );
    expect(message.body).toContain(
      `알림 ${shown.length}건 묶음 · 국세청 전송 실패 3 · 발행 완료 ${shown.length - 3}`,
    );
    expect(message.connectInfo).toHaveLength(shown.length);
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
});
