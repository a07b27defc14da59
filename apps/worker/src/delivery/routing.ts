import type { PopbillEventJob } from '@app/contracts';
import { DEFAULT_DESTINATION, ROUTE_FIELDS, type Route } from '../config/routes-file';

type Values = Record<(typeof ROUTE_FIELDS)[number], string[]>;

/** What each route field can match in an event; a route field matches if any value is listed. */
function eventValues(event: PopbillEventJob): Values {
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

function matches(route: Route, values: Values): boolean {
  return ROUTE_FIELDS.every((field) => {
    const matcher = route[field];
    return !matcher || values[field].some((value) => matcher.includes(value));
  });
}

/** The destination name for an event: the first matching route, else the default. */
export function routeEvent(event: PopbillEventJob, routes: readonly Route[]): string {
  const values = eventValues(event);
  return routes.find((route) => matches(route, values))?.destination ?? DEFAULT_DESTINATION;
}

/**
 * routeEvent for a fixed list, indexed by corpNum, so a thousand companies routed one by one
 * cost one lookup, not a scan.
 */
export function compileRoutes(routes: readonly Route[]): (event: PopbillEventJob) => string {
  const byCorpNum = new Map<string, number[]>();
  const anyCorpNum: number[] = [];
  routes.forEach((route, index) => {
    if (!route.corpNum) return anyCorpNum.push(index);
    for (const corpNum of new Set(route.corpNum)) {
      const list = byCorpNum.get(corpNum) ?? [];
      list.push(index);
      byCorpNum.set(corpNum, list);
    }
  });
  return (event) => {
    const values = eventValues(event);
    const own = values.corpNum.length === 0 ? undefined : byCorpNum.get(values.corpNum[0]);
    const candidates = own ? [...own, ...anyCorpNum].sort((a, b) => a - b) : anyCorpNum;
    const index = candidates.find((i) => matches(routes[i], values));
    return index === undefined ? DEFAULT_DESTINATION : routes[index].destination;
  };
}
