import type { PopbillEventJob } from '@app/contracts';
import { DEFAULT_DESTINATION, parseRoutesFile, routeEvent } from './routing';

const event = (overrides: Partial<PopbillEventJob> = {}): PopbillEventJob => ({
  v: 1,
  eventId: 'ev-1',
  eventIdSource: 'mid',
  webhookType: 'TAXINVOICE.STATE',
  corpNum: '1012345678',
  eventType: 'NTS',
  receivedAt: '2026-11-10T00:00:00.000Z',
  requestId: 'req-1',
  headers: {},
  body: { stateCode: 305 },
  flags: [],
  ...overrides,
});

describe('routeEvent', () => {
  const routes = parseRoutesFile({
    routes: [
      { match: { flag: 'schema' }, destination: 'ops' },
      { match: { flag: ['corpnum-mismatch', 'missing-webhook-type'] }, destination: 'security' },
      { match: { eventType: 'NTS', stateCode: [305] }, destination: 'accounting' },
    ],
  });

  it('matches a flag family by its prefix before ":"', () => {
    expect(routeEvent(event({ flags: ['schema:stateDT:missing'] }), routes)).toBe('ops');
  });

  it('matches whole flags', () => {
    expect(routeEvent(event({ flags: ['corpnum-mismatch'] }), routes)).toBe('security');
    expect(routeEvent(event({ flags: ['unknown-event-type'] }), routes)).toBe('accounting');
  });

  it('routes unflagged events on their fields, else to the default', () => {
    expect(routeEvent(event(), routes)).toBe('accounting');
    expect(routeEvent(event({ eventType: 'OPEN' }), routes)).toBe(DEFAULT_DESTINATION);
  });

  it('refuses a flag matcher that is not text', () => {
    expect(() => parseRoutesFile({ routes: [{ match: { flag: [] }, destination: 'x' }] })).toThrow(
      /flag/,
    );
  });
});
