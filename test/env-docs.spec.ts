import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './support/process';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** Files that read the environment, per app; redis-connection.ts is read by both apps. */
const SOURCES = {
  ingest: ['apps/ingest/src/ingest.config.ts', 'libs/redis/src/redis-connection.ts'],
  worker: ['apps/worker/src/config/worker.config.ts', 'libs/redis/src/redis-connection.ts'],
  'jandi-sink': ['apps/jandi-sink/src/main.ts'],
} as const;
type App = keyof typeof SOURCES;

/**
 * Every variable a file reads: env.X, env['X'], helper(env, 'X'), class-validator fields X?:,
 * and /^PREFIX_(…)$/ patterns, written PREFIX_<NAME>.
 */
export function variablesRead(source: string): Set<string> {
  const found = new Set<string>();
  const patterns = [
    /\benv(?:\.|\[['"])([A-Z][A-Z0-9_]+)/g,
    /\(env, '([A-Z][A-Z0-9_]+)'/g,
    /^\s*(?:@\w+\([^)]*\)\s*)*([A-Z][A-Z0-9_]+)\?: /gm,
  ];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) found.add(m[1]);
  for (const m of source.matchAll(/\/\^([A-Z][A-Z0-9_]*_)\(/g)) found.add(`${m[1]}<NAME>`);
  return found;
}

const readBy = (app: App) =>
  new Set(SOURCES[app].flatMap((file) => [...variablesRead(read(file))]));
const allRead = new Set((Object.keys(SOURCES) as App[]).flatMap((app) => [...readBy(app)]));

describe('every environment variable the apps read is documented', () => {
  it('finds the variables in the source (the scan itself works)', () => {
    expect([...readBy('ingest')]).toEqual(
      expect.arrayContaining(['REDIS_URL', 'PORT', 'POPBILL_BASIC_AUTH', 'BULL_BOARD_USER']),
    );
    expect([...readBy('worker')]).toEqual(
      expect.arrayContaining(['JANDI_WEBHOOK_URL', 'JANDI_WEBHOOK_URL_<NAME>', 'ADMIN_TOKEN']),
    );
    expect(readBy('worker').has('REDIS_CLUSTER_NODES')).toBe(true);
    expect(readBy('jandi-sink')).toEqual(new Set(['PORT']));
  });

  it('in .env.example', () => {
    // Lines NAME=… (commented-out examples count), and PREFIX_<NAME>= anywhere.
    const text = read('.env.example');
    const listed = new Set([
      ...[...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]),
      ...[...text.matchAll(/\b([A-Z][A-Z0-9_]*_<NAME>)=/g)].map((m) => m[1]),
    ]);
    expect([...allRead].filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => !allRead.has(name))).toEqual([]);
  });

  it('in the README configuration table, and nothing else is there', () => {
    const table = [...read('README.md').matchAll(/^\|\s*`([A-Z][A-Z0-9_<>]+)`\s*\|/gm)].map(
      (m) => m[1],
    );
    expect([...allRead].filter((name) => !table.includes(name))).toEqual([]);
    expect(table.filter((name) => !allRead.has(name))).toEqual([]);
  });

  it('in docker-compose.yml: all of .env reaches each app, and what compose sets is read', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; env_file?: unknown }>;
    };
    for (const app of ['ingest', 'worker'] as const) {
      expect(compose.services[app].env_file).toEqual([{ path: '.env', required: false }]);
      const passed = Object.keys(compose.services[app].environment ?? {});
      expect({ app, unknown: passed.filter((name) => !readBy(app).has(name)) }).toEqual({
        app,
        unknown: [],
      });
    }
  });
});
