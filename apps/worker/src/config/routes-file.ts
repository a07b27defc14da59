/** Name of the destination behind JANDI_WEBHOOK_URL. */
export const DEFAULT_DESTINATION = 'default';

const NAME = /^[A-Za-z0-9_]+$/;
const URL_PATTERN = /^https?:\/\/\S+$/;

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

/** The routes file: routes, and destination URLs it defines itself (secrets: never logged). */
export interface RoutesFile {
  routes: Route[];
  destinations: Record<string, string>;
}

/** The event fields a route can match on. */
export const ROUTE_FIELDS = ['webhookType', 'eventType', 'stateCode', 'corpNum', 'flag'] as const;

function toMatcher(value: unknown, where: string): Matcher {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((v) => typeof v === 'string' || typeof v === 'number')) {
    throw new Error(`${where} must be a string, a number or a non-empty list of them`);
  }
  return list.map(String);
}

/** Destination names are case-insensitive, like the JANDI_WEBHOOK_URL_<NAME> they may come from. */
function destinationName(value: unknown, where: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new Error(`${where} must be a name of letters, digits and _`);
  }
  return value.toLowerCase();
}

/** Never quotes a value: a destination's URL is a secret. */
function parseDestinations(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('"destinations" must be an object of name: URL');
  }
  const destinations: Record<string, string> = {};
  for (const [key, url] of Object.entries(value)) {
    const name = destinationName(key, `destinations key "${key.slice(0, 64)}"`);
    if (name === DEFAULT_DESTINATION) {
      throw new Error('destinations.default is JANDI_WEBHOOK_URL: set it there');
    }
    if (destinations[name]) throw new Error(`destinations.${name} is defined twice`);
    if (typeof url !== 'string' || !URL_PATTERN.test(url.trim())) {
      throw new Error(`destinations.${name} must be an http(s) URL`);
    }
    destinations[name] = url.trim();
  }
  return destinations;
}

/**
 * Parses the routes file: `{ "destinations": { "acme": "https://wh.jandi.com/…" }, "routes":
 * [{ "match": { "corpNum": "1012345678" }, "destination": "acme" }] }`. A destination not in
 * "destinations" is read from JANDI_WEBHOOK_URL_<NAME> by the caller.
 */
export function parseRoutesFile(json: unknown): RoutesFile {
  const file = (json ?? {}) as { routes?: unknown; destinations?: unknown };
  if (typeof json !== 'object' || json === null || !Array.isArray(file.routes)) {
    throw new Error('must be a JSON object with a "routes" array');
  }
  for (const key of Object.keys(file)) {
    // Keys starting with "_" are comments (JSON has none), as in config/routes.example.json.
    if (key !== 'routes' && key !== 'destinations' && !key.startsWith('_')) {
      throw new Error(`"${key.slice(0, 64)}" is not one of routes, destinations`);
    }
  }
  const destinations = parseDestinations(file.destinations);
  const routes = file.routes.map((entry: unknown, index) => {
    const where = `routes[${index}]`;
    const { match, destination } = (entry ?? {}) as { match?: unknown; destination?: unknown };
    const route: Route = { destination: destinationName(destination, `${where}.destination`) };
    if (typeof match !== 'object' || match === null) throw new Error(`${where}.match is missing`);
    for (const key of Object.keys(match)) {
      if (!(ROUTE_FIELDS as readonly string[]).includes(key)) {
        throw new Error(
          `${where}.match.${key.slice(0, 64)} is not one of ${ROUTE_FIELDS.join(', ')}`,
        );
      }
    }
    for (const field of ROUTE_FIELDS) {
      const matcher = toMatcher(
        (match as Record<string, unknown>)[field],
        `${where}.match.${field}`,
      );
      if (matcher) route[field] = matcher;
    }
    return route;
  });
  return { routes, destinations };
}

/**
 * Parses the text of the routes file. A JSON syntax error is reported by position only: the
 * parser's own message quotes the text around it, which may be a webhook URL.
 */
export function parseRoutesText(text: string): RoutesFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    // eslint-disable-next-line preserve-caught-error -- the cause quotes the file's secrets
    throw new Error(`is not valid JSON${position ? ` (at character ${position})` : ''}`);
  }
  return parseRoutesFile(json);
}
