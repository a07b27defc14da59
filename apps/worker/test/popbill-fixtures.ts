import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, PopbillEventJobV1 } from '@app/contracts';
import { POPBILL_FIXTURES as FIXTURE_DIR } from '../../../test/support/fixtures';

interface Fixture {
  headers: Record<string, string>;
  body: JsonObject;
}

/** A fixture as ingest would enqueue it. */
export function fixtureJob(
  name: string,
  overrides: Partial<PopbillEventJobV1> = {},
): PopbillEventJobV1 {
  const fixture = JSON.parse(readFileSync(join(FIXTURE_DIR, name), 'utf8')) as Fixture;
  const headers = Object.fromEntries(
    Object.entries(fixture.headers)
      .filter(([key]) => key.toLowerCase().startsWith('pb-'))
      .map(([key, value]) => [key.toLowerCase(), value]),
  );
  const eventType = fixture.body.eventType ?? headers['pb-webhook-eventtype'] ?? null;
  return {
    v: 1,
    eventId: headers['pb-webhook-mid'],
    eventIdSource: 'mid',
    webhookType: headers['pb-webhook-type'],
    corpNum: headers['pb-webhook-corpnum'] ?? null,
    eventType: typeof eventType === 'string' ? eventType : null,
    receivedAt: new Date().toISOString(),
    requestId: `req-${headers['pb-webhook-mid']}`,
    headers,
    body: fixture.body,
    flags: headers['pb-webhook-type'].endsWith('.STATE') ? [] : ['unmodelled-webhook-type'],
    ...overrides,
  };
}

export const FIXTURE_NAMES = readdirSync(FIXTURE_DIR).filter((name) => name.endsWith('.json'));
