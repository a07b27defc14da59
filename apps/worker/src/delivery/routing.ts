import type { PopbillEventJob } from '@app/contracts';

/** Name of the destination behind JANDI_WEBHOOK_URL. */
export const DEFAULT_DESTINATION = 'default';

type Matcher = string[] | undefined;

/** One line of the routes file: the first route whose every given field matches wins. */
export interface Route {
  destination: string;
  webhookType?: string[];
  eventType?: string[];
  stateCode?: string[];
  corpNum?: string[];
  /** Whole flags (`corpnum-mismatch`) or a family before ":" (`schema`). */
  flag?: string[];
}

const FIELDS = ['webhookType', 'eventType', 'stateCode', 'corpNum', 'flag'] as const;

function toMatcher(value: unknown, where: string): Matcher {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((v) => typeof v === 'string' || typeof v === 'number')) {
    throw new Error(`${where} must be a string, a number or a non-empty list of them`);
  }
  return list.map(String);
}

/**
 * Parses the routes file: `{ "routes": [{ "match": { "eventType": "NTS", "stateCode": [305] },
 * "destination": "accounting" }] }`. URLs never live in the file: destination "accounting"
 * is read from JANDI_WEBHOOK_URL_ACCOUNTING.
 */
export function parseRoutesFile(json: unknown): Route[] {
  const routes = (json as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(routes)) throw new Error('must be a JSON object with a "routes" array');
  return routes.map((entry: unknown, index) => {
    const where = `routes[${index}]`;
    const { match, destination } = (entry ?? {}) as { match?: unknown; destination?: unknown };
    if (typeof destination !== 'string' || !/^[A-Za-z0-9_]+$/.test(destination)) {
      throw new Error(`${where}.destination must be a name of letters, digits and _`);
    }
    if (typeof match !== 'object' || match === null) throw new Error(`${where}.match is missing`);
    const route: Route = { destination: destination.toLowerCase() };
    for (const key of Object.keys(match)) {
      if (!(FIELDS as readonly string[]).includes(key)) {
        throw new Error(`${where}.match.${key} is not one of ${FIELDS.join(', ')}`);
      }
    }
    for (const field of FIELDS) {
      const matcher = toMatcher(
        (match as Record<string, unknown>)[field],
        `${where}.match.${field}`,
      );
      if (matcher) route[field] = matcher;
    }
    return route;
  });
}

/** What each route field can match in an event; a route field matches if any value is listed. */
function eventValues(event: PopbillEventJob): Record<(typeof FIELDS)[number], string[]> {
  const stateCode = event.body.stateCode;
  const one = (value: string | null) => (value === null ? [] : [value]);
  return {
    webhookType: [event.webhookType],
    eventType: one(event.eventType),
    stateCode:
      typeof stateCode === 'string' || typeof stateCode === 'number' ? [String(stateCode)] : [],
    corpNum: one(event.corpNum),
    flag: event.flags.flatMap((flag) => [flag, flag.split(':')[0]]),
  };
}

/** The destination name for an event: the first matching route, else the default. */
export function routeEvent(event: PopbillEventJob, routes: readonly Route[]): string {
  const values = eventValues(event);
  const route = routes.find((candidate) =>
    FIELDS.every((field) => {
      const matcher = candidate[field];
      return !matcher || values[field].some((value) => matcher.includes(value));
    }),
  );
  return route?.destination ?? DEFAULT_DESTINATION;
}
