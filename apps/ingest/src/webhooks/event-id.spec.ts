import { QueueKeys } from 'bullmq';
import { canonicalJson, EVENT_ID_PREFIX, eventIdFor, manualEventIdFor } from './event-id';

const PREFIXES = Object.values(EVENT_ID_PREFIX);

describe('eventIdFor', () => {
  it('uses Pb-Webhook-MID as it is behind the "m." prefix', () => {
    expect(eventIdFor('TAXINVOICE.STATE', '016120000002-1777d55c2c41492ab06826d', {})).toEqual({
      eventId: 'm.016120000002-1777d55c2c41492ab06826d',
      eventIdSource: 'mid',
    });
    expect(eventIdFor('T', '12345', {}).eventId).toBe('m.12345');
  });

  it.each([['has:colon'], ['with space'], ['x'.repeat(129)], ['é']])(
    'hashes a MID that is not a safe id (%s), stably',
    (mid) => {
      const first = eventIdFor('T', mid, {});
      expect(first.eventId).toMatch(/^mh\.[0-9a-f]{40}$/);
      expect(first.eventIdSource).toBe('mid');
      expect(eventIdFor('T', mid, { other: 1 })).toEqual(first);
    },
  );

  it('without a MID hashes type and body, ignoring key order', () => {
    const a = eventIdFor('TAXINVOICE.STATE', undefined, {
      itemKey: '1',
      stateCode: 300,
      nested: { b: 1, a: [2, 1] },
    });
    const b = eventIdFor('TAXINVOICE.STATE', '', {
      nested: { a: [2, 1], b: 1 },
      stateCode: 300,
      itemKey: '1',
    });
    expect(a).toEqual(b);
    expect(a.eventId).toMatch(/^h\.[0-9a-f]{40}$/);
    expect(a.eventIdSource).toBe('hash');
  });

  it('without a MID tells apart different types, values and array orders', () => {
    const base = eventIdFor('TAXINVOICE.STATE', undefined, {
      stateCode: 300,
      list: [1, 2],
    }).eventId;
    expect(
      eventIdFor('CASHBILL.STATE', undefined, { stateCode: 300, list: [1, 2] }).eventId,
    ).not.toBe(base);
    expect(
      eventIdFor('TAXINVOICE.STATE', undefined, { stateCode: 304, list: [1, 2] }).eventId,
    ).not.toBe(base);
    expect(
      eventIdFor('TAXINVOICE.STATE', undefined, { stateCode: 300, list: [2, 1] }).eventId,
    ).not.toBe(base);
    expect(
      eventIdFor('TAXINVOICE.STATE', undefined, { stateCode: '300', list: [1, 2] }).eventId,
    ).not.toBe(base);
  });

  it('gives every source its own prefix, none a prefix of another', () => {
    for (const a of PREFIXES) {
      for (const b of PREFIXES) if (a !== b) expect(b.startsWith(a)).toBe(false);
    }
    const hashId = eventIdFor('T', undefined, { a: 1 }).eventId;
    const midHashId = eventIdFor('T', 'not safe', {}).eventId;
    // A MID that spells out another source's id still lands in the MID namespace.
    expect(eventIdFor('T', hashId, {}).eventId).toBe(`m.${hashId}`);
    expect(eventIdFor('T', midHashId, {}).eventId).toBe(`m.${midHashId}`);
  });

  it.each([
    ['a BullMQ key name', 'wait'],
    ['digits only', '0'],
    ['a colon', 'de:x'],
    ['no MID', undefined],
  ])('keeps to BullMQ custom id rules and off its key names for %s', (_label, mid) => {
    const { eventId } = eventIdFor('T', mid, {});
    expect(eventId).not.toContain(':');
    expect(`${parseInt(eventId, 10)}`).not.toBe(eventId);
    const keyNames = Object.keys(new QueueKeys('p').getKeys('q'));
    expect(keyNames).toContain('wait');
    expect(keyNames).not.toContain(eventId);
    expect(keyNames.some((name) => PREFIXES.some((prefix) => name.startsWith(prefix)))).toBe(false);
  });

  it('writes canonical JSON', () => {
    expect(canonicalJson({ b: [1, { d: null, c: 'x' }], a: true })).toBe(
      '{"a":true,"b":[1,{"c":"x","d":null}]}',
    );
  });
});

describe('manualEventIdFor', () => {
  const mid = '016120000002-1777d55c2c41492ab06826d';
  const body = { eventType: 'MANUAL', eventDT: '20261113080000', itemKey: '1' };

  it('never equals the id of the event it repeats, and is stable for a resend', () => {
    const manual = manualEventIdFor('TAXINVOICE.STATE', mid, body);
    expect(manual.eventId).toMatch(/^r\.[0-9a-f]{40}$/);
    expect(manual.eventId).not.toBe(eventIdFor('TAXINVOICE.STATE', mid, body).eventId);
    expect(manual.eventIdSource).toBe('mid');
    expect(manualEventIdFor('TAXINVOICE.STATE', mid, { ...body })).toEqual(manual);
  });

  it('differs for another re-execution of the same MID', () => {
    expect(
      manualEventIdFor('TAXINVOICE.STATE', mid, { ...body, eventDT: '20261113090000' }).eventId,
    ).not.toBe(manualEventIdFor('TAXINVOICE.STATE', mid, body).eventId);
    expect(manualEventIdFor('TAXINVOICE.STATE', undefined, body).eventIdSource).toBe('hash');
  });
});
