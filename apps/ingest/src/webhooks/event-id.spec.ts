import { canonicalJson, eventIdFor, manualEventIdFor } from './event-id';

describe('eventIdFor', () => {
  it('uses Pb-Webhook-MID as it is', () => {
    expect(eventIdFor('TAXINVOICE.STATE', '016120000002-1777d55c2c41492ab06826d', {})).toEqual({
      eventId: '016120000002-1777d55c2c41492ab06826d',
      eventIdSource: 'mid',
    });
  });

  it.each([['has:colon'], ['12345'], ['with space'], ['x'.repeat(129)]])(
    'hashes a MID BullMQ could not take as a job id (%s), stably',
    (mid) => {
      const first = eventIdFor('T', mid, {});
      expect(first.eventId).toMatch(/^mid-[0-9a-f]{40}$/);
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
    expect(a.eventId).toMatch(/^h-[0-9a-f]{40}$/);
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
