import type { PopbillEventJob, PopbillEventJobV1 } from '@app/contracts';
import { fixtureJob } from '../../test/popbill-fixtures';
import { DEFAULT_DESTINATION, parseRoutesFile, parseRoutesText } from '../config/routes-file';
import { compileRoutes, routeEvent } from './routing';

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
  const { routes } = parseRoutesFile({
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

const SECRET = 'https://wh.jandi.com/connect-api/webhook/1/secret-token';

const eventOf = (corpNum: string, fixture = 'taxinvoice-issue.json'): PopbillEventJobV1 => ({
  ...fixtureJob(fixture, { eventId: `e-${corpNum}` }),
  corpNum,
});

describe('routes file', () => {
  it('carries destination URLs and routes by corpNum, first match winning', () => {
    const { routes, destinations } = parseRoutesFile({
      destinations: { Acme: SECRET, beta: 'http://127.0.0.1:9/b' },
      routes: [
        { match: { eventType: 'NTS', stateCode: 305 }, destination: 'beta' },
        { match: { corpNum: ['1012345678', 2222222222] }, destination: 'ACME' },
        { match: { corpNum: '3333333333', eventType: 'Issue' }, destination: 'beta' },
      ],
    });
    expect(destinations).toEqual({ acme: SECRET, beta: 'http://127.0.0.1:9/b' });
    const route = compileRoutes(routes);
    expect(route(eventOf('1012345678'))).toBe('acme');
    expect(route(eventOf('2222222222'))).toBe('acme');
    expect(route(eventOf('3333333333'))).toBe('beta');
    expect(route(eventOf('3333333333', 'taxinvoice-open.json'))).toBe('default');
    expect(route(eventOf('9999999999'))).toBe('default');
    // An earlier route without corpNum still wins over a company's own route.
    expect(route(eventOf('1012345678', 'taxinvoice-nts-failed.json'))).toBe('beta');
  });

  it('looks a thousand companies up by corpNum', () => {
    const routes = Array.from({ length: 1000 }, (_, i) => ({
      match: { corpNum: String(1_000_000_000 + i) },
      destination: `corp_${i}`,
    }));
    const route = compileRoutes(parseRoutesFile({ routes }).routes);
    expect(route(eventOf('1000000000'))).toBe('corp_0');
    expect(route(eventOf('1000000999'))).toBe('corp_999');
  });

  it('refuses bad destinations without quoting their URLs', () => {
    const bad = (destinations: unknown) => () => parseRoutesFile({ destinations, routes: [] });
    expect(bad({ acme: 'ftp://secret-host/x' })).toThrow(
      'destinations.acme must be an http(s) URL',
    );
    expect(bad({ 'a-b': SECRET })).toThrow('must be a name of letters, digits and _');
    expect(bad({ default: SECRET })).toThrow('JANDI_WEBHOOK_URL');
    expect(bad({ acme: SECRET, ACME: SECRET })).toThrow('destinations.acme is defined twice');
    expect(bad([SECRET])).toThrow('"destinations" must be an object');
    expect(parseRoutesFile({ _comment: ['notes'], routes: [] }).routes).toEqual([]);
    expect(() => parseRoutesFile({ routes: [], destination: {} })).toThrow(
      '"destination" is not one of routes, destinations',
    );
    for (const attempt of [bad({ acme: 'ftp://secret-host/x' }), bad([SECRET])])
      expect(attempt).not.toThrow(/secret/);
  });

  it('reports a JSON syntax error by position, never by the text around it', () => {
    const text = `{"destinations": {"acme": ${SECRET}}, "routes": []}`;
    expect(() => JSON.parse(text)).toThrow('https://wh');
    expect(() => parseRoutesText(text)).toThrow(/^is not valid JSON/);
    expect(() => parseRoutesText(text)).not.toThrow(/secret|https:|wh/);
  });
});
