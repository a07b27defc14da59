import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateSync } from 'class-validator';
import { POPBILL_FIXTURES } from '../../../../test/support/fixtures';
import { EVENT_DTOS } from './popbill-event.dto';
import {
  checkPopbillEvent,
  checkWebhookType,
  compileAcceptor,
  nestsDeeperThan,
} from './popbill-event.validator';

const dir = POPBILL_FIXTURES;
const fixtures = readdirSync(dir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({ file, ...JSON.parse(readFileSync(join(dir, file), 'utf8')) }));
const issue = fixtures.find((f) => f.file === 'taxinvoice-issue.json').body;

const fieldsIn = (result: ReturnType<typeof checkPopbillEvent>) =>
  result.ok ? [] : result.errors.map((error) => error.field).sort();

describe('checkPopbillEvent', () => {
  it.each(fixtures.map((f) => [f.file, f]))('accepts the fixture %s', (_file, fixture) => {
    const result = checkPopbillEvent(fixture.headers['Pb-Webhook-Type'], fixture.body);
    expect(result).toMatchObject({ ok: true });
  });

  it('flags an unknown eventType on a known type instead of rejecting it', () => {
    expect(checkPopbillEvent('TAXINVOICE.STATE', { ...issue, eventType: 'Reissue' })).toEqual({
      ok: true,
      flags: ['unknown-event-type'],
      eventType: 'Reissue',
      corpNum: '1012345678',
    });
  });

  it('accepts any object for a type it does not model, and flags it', () => {
    expect(checkPopbillEvent('KAKAO.STATE', { anything: [1, 2] }, 'Result')).toEqual({
      ok: true,
      flags: ['unmodelled-webhook-type'],
      eventType: 'Result',
      corpNum: null,
    });
  });

  it('accepts stateCode as a number or a 3-digit string, on every modelled type', () => {
    expect(checkPopbillEvent('TAXINVOICE.STATE', { ...issue, stateCode: '304' }).ok).toBe(true);
    const statement = fixtures.find((f) => f.file === 'statement-issue.json').body;
    expect(checkPopbillEvent('STATEMENT.STATE', { ...statement, stateCode: 300 }).ok).toBe(true);
  });

  it.each([
    ['eventDT', { eventDT: '2026-11-10 09:30' }],
    ['eventDT', { eventDT: 20261110093012 }],
    ['corpNum', { corpNum: '101-23-45678' }],
    ['itemKey', { itemKey: '' }],
    ['itemKey', { itemKey: 'k'.repeat(65) }],
    ['stateCode', { stateCode: 3000 }],
    ['stateCode', { stateCode: '30' }],
    ['stateCode', { stateCode: 300.5 }],
    ['stateCode', { stateCode: null }],
    ['stateDT', { stateDT: undefined }],
    ['ntsConfirmNum', { ntsConfirmNum: 'x'.repeat(25) }],
    ['ntssendDT', { ntssendDT: 'yesterday' }],
    ['ntssendErrCode', { ntssendErrCode: 'TOOLONG' }],
    ['eventType', { eventType: 7 }],
  ])('names %s when it is wrong (%j)', (field, change) => {
    expect(
      fieldsIn(checkPopbillEvent('TAXINVOICE.STATE', { ...issue, ...change } as never)),
    ).toEqual([field]);
  });

  it('requires ntsConfirmNum on Issue only', () => {
    const { ntsConfirmNum: _omitted, ...withoutConfirm } = issue;
    expect(fieldsIn(checkPopbillEvent('TAXINVOICE.STATE', withoutConfirm))).toEqual([
      'ntsConfirmNum',
    ]);
    expect(
      checkPopbillEvent('TAXINVOICE.STATE', { ...withoutConfirm, eventType: 'CLOSEDOWN' }).ok,
    ).toBe(true);
  });

  it('checks cash receipt fields', () => {
    const cashbill = fixtures.find((f) => f.file === 'cashbill-nts-failed.json').body;
    expect(
      fieldsIn(
        checkPopbillEvent('CASHBILL.STATE', {
          ...cashbill,
          tradeDate: '2026-11-15',
          franchiseCorpNum: '1',
        }),
      ),
    ).toEqual(['franchiseCorpNum', 'tradeDate']);
  });

  it('never copies body keys onto an object prototype', () => {
    const body = JSON.parse(
      '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}',
    );
    checkPopbillEvent('TAXINVOICE.STATE', { ...issue, ...body });
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
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

describe('checkWebhookType', () => {
  it.each([['TAXINVOICE.STATE'], ['HT.TAXINVOICEXML'], ['KAKAO.STATE'], ['FAX_RESULT-2']])(
    'accepts %s',
    (type) => {
      expect(checkWebhookType(type)).toBeNull();
    },
  );
  it.each([[undefined], [''], ['A B'], ['X'.repeat(65)], ['<script>']])(
    'refuses %p with a reason',
    (type) => {
      expect(checkWebhookType(type)).toMatch(/Pb-Webhook-Type/);
    },
  );
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
