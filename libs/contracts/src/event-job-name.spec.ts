import { EVENT_JOB_NAME_MAX, eventJobName } from './event-job-name';
import type { PopbillEventJob } from './popbill-event.job';

const job = (over: Partial<PopbillEventJob> = {}): PopbillEventJob => ({
  v: 1,
  eventId: 'm.016120000002-0001',
  eventIdSource: 'mid',
  webhookType: 'TAXINVOICE.STATE',
  corpNum: '1012345678',
  eventType: 'Issue',
  receivedAt: '2026-11-10T00:30:12.000Z',
  requestId: 'req-1',
  headers: {},
  body: { itemKey: '026111009300000001' },
  flags: [],
  ...over,
});

describe('eventJobName', () => {
  it('names the webhook type, event type and item key', () => {
    expect(eventJobName(job())).toBe('TAXINVOICE.STATE/Issue 026111009300000001');
  });

  it('falls back to the event id without an item key, and leaves out a missing event type', () => {
    expect(eventJobName(job({ eventType: null, body: {} }))).toBe(
      'TAXINVOICE.STATE m.016120000002-0001',
    );
    expect(eventJobName(job({ body: { itemKey: 7 } }))).toBe('TAXINVOICE.STATE/Issue 7');
    expect(eventJobName(job({ body: { itemKey: { nested: true } } }))).toBe(
      'TAXINVOICE.STATE/Issue m.016120000002-0001',
    );
  });

  it('strips control and bidi characters and line breaks from what the sender chose', () => {
    const name = eventJobName(
      job({ eventType: 'Is\nsue\u202e', body: { itemKey: '\u0000 key\r\n\u2028two\u200b' } }),
    );
    expect(name).toBe('TAXINVOICE.STATE/Is sue key two');
    expect(name).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}]/u);
  });

  it('clips unbounded input', () => {
    const name = eventJobName(
      job({
        webhookType: 'T'.repeat(10_000),
        eventType: 'E'.repeat(10_000),
        body: { itemKey: 'k'.repeat(10_000) },
      }),
    );
    expect(name.length).toBeLessThanOrEqual(EVENT_JOB_NAME_MAX);
    expect(name).toMatch(/^T{39}…\/E{39}… k+…$/);
  });
});
