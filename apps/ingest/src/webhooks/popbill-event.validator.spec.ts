import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_DTOS } from '@app/contracts';
import { validateSync } from 'class-validator';
import { POPBILL_FIXTURES } from '../../../../test/support/fixtures';
import {
  checkPopbillEvent,
  compileAcceptor,
  nestsDeeperThan,
  schemaProblem,
} from './popbill-event.validator';

const dir = POPBILL_FIXTURES;
const fixtures = readdirSync(dir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({ file, ...JSON.parse(readFileSync(join(dir, file), 'utf8')) }));
const issue = fixtures.find((f) => f.file === 'taxinvoice-issue.json').body;

const flagsOf = (body: object, type = 'TAXINVOICE.STATE') =>
  checkPopbillEvent(type, body as never).flags.sort();

describe('checkPopbillEvent', () => {
  it.each(fixtures.map((f) => [f.file, f]))('flags nothing odd in the fixture %s', (_file, f) => {
    const { flags } = checkPopbillEvent(f.headers['Pb-Webhook-Type'], f.body, {
      corpNum: f.headers['Pb-Webhook-Corpnum'],
    });
    expect(flags).toEqual(
      f.headers['Pb-Webhook-Type'].endsWith('.STATE') ? [] : ['unmodelled-webhook-type'],
    );
  });

  it('flags an unknown eventType on a known type', () => {
    expect(checkPopbillEvent('TAXINVOICE.STATE', { ...issue, eventType: 'Reissue' })).toEqual({
      webhookType: 'TAXINVOICE.STATE',
      flags: ['unknown-event-type'],
      eventType: 'Reissue',
      corpNum: '1012345678',
    });
  });

  it('accepts any object for a type it does not model, and flags it', () => {
    expect(checkPopbillEvent('KAKAO.STATE', { anything: [1, 2] }, { eventType: 'Result' })).toEqual(
      {
        webhookType: 'KAKAO.STATE',
        flags: ['unmodelled-webhook-type'],
        eventType: 'Result',
        corpNum: null,
      },
    );
  });

  it.each([
    [undefined, 'missing-webhook-type'],
    ['', 'missing-webhook-type'],
    ['A B', 'invalid-webhook-type'],
    ['X'.repeat(65), 'invalid-webhook-type'],
    ['<script>', 'invalid-webhook-type'],
  ])('stores Pb-Webhook-Type %p as unknown, flagged %s', (type, flag) => {
    expect(checkPopbillEvent(type, issue)).toMatchObject({ webhookType: 'unknown', flags: [flag] });
  });

  it('accepts stateCode as a number or a 3-digit string, on every modelled type', () => {
    expect(flagsOf({ ...issue, stateCode: '304' })).toEqual([]);
    const statement = fixtures.find((f) => f.file === 'statement-issue.json').body;
    expect(flagsOf({ ...statement, stateCode: 300 }, 'STATEMENT.STATE')).toEqual([]);
  });

  it.each([
    ['schema:eventDT:format', { eventDT: '2026-11-10 09:30' }],
    ['schema:eventDT:type', { eventDT: 20261110093012 }],
    ['schema:corpNum:format', { corpNum: '101-23-45678' }],
    ['schema:itemKey:empty', { itemKey: '' }],
    ['schema:itemKey:length', { itemKey: 'k'.repeat(65) }],
    ['schema:stateCode:format', { stateCode: 3000 }],
    ['schema:stateCode:format', { stateCode: '30' }],
    ['schema:stateCode:format', { stateCode: 300.5 }],
    ['schema:stateCode:missing', { stateCode: null }],
    ['schema:stateCode:type', { stateCode: true }],
    ['schema:stateDT:missing', { stateDT: undefined }],
    ['schema:ntsConfirmNum:length', { ntsConfirmNum: 'x'.repeat(25) }],
    ['schema:ntssendDT:format', { ntssendDT: 'yesterday' }],
    ['schema:ntssendErrCode:length', { ntssendErrCode: 'SYN0041' }],
    ['schema:ntssendErrCode:type', { ntssendErrCode: ['SYN004'] }],
    ['schema:eventType:type', { eventType: 7 }],
  ])('flags %s (%j)', (flag, change) => {
    expect(flagsOf({ ...issue, ...change })).toEqual([flag]);
  });

  it('treats "" in an optional field as not known yet, without a flag', () => {
    const body = {
      ...issue,
      ntsConfirmNum: '',
      ntssendDT: '',
      ntsresultDT: '',
      ntssendErrCode: '',
    };
    expect(flagsOf(body)).toEqual([]);
  });

  it('expects ntsConfirmNum on Issue only', () => {
    const { ntsConfirmNum: _omitted, ...withoutConfirm } = issue;
    expect(flagsOf(withoutConfirm)).toEqual(['schema:ntsConfirmNum:missing']);
    expect(flagsOf({ ...withoutConfirm, eventType: 'CLOSEDOWN' })).toEqual([]);
  });

  it('flags every required field of a body without any known field', () => {
    expect(flagsOf({ memo: 'x' }, 'CASHBILL.STATE')).toEqual([
      'schema:corpNum:missing',
      'schema:eventDT:missing',
      'schema:eventType:missing',
      'schema:itemKey:missing',
      'schema:stateCode:missing',
      'schema:stateDT:missing',
    ]);
  });

  it('checks cash receipt fields', () => {
    const cashbill = fixtures.find((f) => f.file === 'cashbill-nts-failed.json').body;
    expect(
      flagsOf({ ...cashbill, tradeDate: '2026-11-15', franchiseCorpNum: '1' }, 'CASHBILL.STATE'),
    ).toEqual(['schema:franchiseCorpNum:format', 'schema:tradeDate:format']);
  });

  it('reads eventType from Pb-Webhook-EventType when the body has none', () => {
    const { eventType: _omitted, ...body } = issue;
    expect(checkPopbillEvent('TAXINVOICE.STATE', body, { eventType: 'OPEN' })).toMatchObject({
      eventType: 'OPEN',
      flags: ['schema:eventType:missing'],
    });
  });

  describe('corpNum: the body is authoritative, the header fills in', () => {
    const check = (body: object, corpNum?: string) =>
      checkPopbillEvent('TAXINVOICE.STATE', body as never, { corpNum });

    it('keeps the body corpNum and flags a header that differs', () => {
      expect(check(issue, '9999999999')).toMatchObject({
        corpNum: '1012345678',
        flags: ['corpnum-mismatch'],
      });
      expect(check(issue, '1012345678')).toMatchObject({ corpNum: '1012345678', flags: [] });
    });
    it('drops the hyphens of a body corpNum and compares without them', () => {
      expect(check({ ...issue, corpNum: '101-23-45678' }, '1012345678')).toMatchObject({
        corpNum: '1012345678',
        flags: ['schema:corpNum:format'],
      });
    });
    it('uses the header only when the body has no corpNum', () => {
      const { corpNum: _omitted, ...body } = issue;
      expect(check(body, '2208812345')).toMatchObject({
        corpNum: '2208812345',
        flags: ['schema:corpNum:missing'],
      });
      expect(check({ ...body, corpNum: '' }, '220-88-12345')).toMatchObject({
        corpNum: '2208812345',
      });
      expect(check(body)).toMatchObject({ corpNum: null });
    });
  });

  it('never copies body keys onto an object prototype', () => {
    const body = JSON.parse(
      '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}',
    );
    checkPopbillEvent('TAXINVOICE.STATE', { ...issue, ...body });
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });
});

describe('schemaProblem', () => {
  it.each([
    [undefined, ['matches'], 'missing'],
    [null, ['isString'], 'missing'],
    ['', ['isLength'], 'empty'],
    [[], ['isString'], 'type'],
    [7, ['isString', 'isLength'], 'type'],
    [7, ['matches'], 'type'],
    ['toolong', ['maxLength'], 'length'],
    ['2026-11-10', ['matches'], 'format'],
    [3000, ['isStateCode'], 'format'],
  ])('%p failing %j is %s', (value, constraints, problem) => {
    expect(schemaProblem(value, constraints)).toBe(problem);
  });
});

describe('compileAcceptor', () => {
  const ODD_VALUES = [undefined, null, '', 'x', 'x'.repeat(70), 0, 300, '300', 300.5, true, [], {}];
  const ODD_VALUES_DT = ['20261110093012', '2026111009301', '20261110', '2026-11-10'];

  // Every modelled field of every fixture, replaced by each odd value, alone and with eventType
  // switched: the fast check must never say yes where class-validator says no, nor the reverse.
  it.each(Object.entries(EVENT_DTOS))('agrees with validateSync on %s', (type, Dto) => {
    const accepts = compileAcceptor(Dto)!;
    expect(accepts).not.toBeNull();
    const bodies = fixtures.filter((f) => f.headers['Pb-Webhook-Type'] === type).map((f) => f.body);
    const fields = Object.keys(new Dto()).concat(
      ...bodies.map((body) => Object.keys(body)),
      'ntsConfirmNum',
      'ntssendErrCode',
      'invoiceNum',
      'tradeDate',
    );
    let compared = 0;
    for (const body of bodies) {
      for (const eventType of [body.eventType, 'Issue', 'CLOSEDOWN']) {
        for (const field of new Set(fields)) {
          for (const value of [...ODD_VALUES, ...ODD_VALUES_DT]) {
            const dto = Object.assign(new Dto(), { ...body, eventType, [field]: value });
            const valid = validateSync(dto).length === 0;
            expect([field, value, accepts(dto as never)]).toEqual([field, value, valid]);
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(200);
  });
});

describe('nestsDeeperThan', () => {
  it('measures arrays and objects alike, leaves scalars at depth 0', () => {
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan({ a: [1] }, 2)).toBe(false);
    expect(nestsDeeperThan({ a: [{}] }, 2)).toBe(true);
  });
  it('walks a 100,000-level body without overflowing the stack', () => {
    expect(nestsDeeperThan(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), 32)).toBe(true);
  });
});
