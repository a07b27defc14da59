import { hostname } from 'node:os';
import { BlockList } from 'node:net';

export type ServiceName = 'ingest' | 'worker';

/**
 * pino options both apps share: level names ("warn", not 40) and the service on every line,
 * so lines of several processes can be told apart once collected.
 */
export function logFormat(service: ServiceName) {
  return {
    base: { service, pid: process.pid, hostname: hostname() },
    formatters: { level: (label: string) => ({ level: label }) },
  };
}

/** Keys whose values are never logged, whatever they hold. */
const SECRET_KEY = /pass|secret|token|apikey|auth|credential|cookie|^(key|cert|ca)$/i;
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** A URL's scheme and host only: JANDI webhook URLs carry their token in the path. */
function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    const rest = url.pathname.length > 1 || url.search ? '/[redacted]' : '';
    return `${url.protocol}//${url.host}${rest}`;
  } catch {
    return '[redacted]';
  }
}

/**
 * A config object as it may be logged: secrets (by key) replaced, every URL cut to its scheme
 * and host, functions left out. Unset stays null, so the line still shows what is off.
 */
export function redactConfig(value: unknown, key = ''): unknown {
  if (value === null || value === undefined) return null;
  if (SECRET_KEY.test(key)) return '[redacted]';
  if (typeof value === 'string') return URL_LIKE.test(value) ? redactUrl(value) : value;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof BlockList) return value.rules;
  if (Array.isArray(value)) return value.map((item) => redactConfig(item));
  if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => typeof v !== 'function');
    return Object.fromEntries(entries.map(([k, v]) => [k, redactConfig(v, k)]));
  }
  return undefined;
}
