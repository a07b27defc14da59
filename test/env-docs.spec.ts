import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { envVariables } from '@app/runtime';
import { IngestEnv } from '../apps/ingest/src/ingest.config';
import { NAMED_URL_VARIABLES, WorkerEnv } from '../apps/worker/src/config/worker.config';
import { REPO_ROOT } from './support/process';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/**
 * The sink is a test stand-in bundled without dependencies, so it has no env class: the
 * variables it reads are the process.env.X of its one file.
 */
const sinkVariables = [
  ...new Set(
    [...read('apps/jandi-sink/src/main.ts').matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)].map(
      (m) => m[1],
    ),
  ),
];

/** Every variable each app reads, from its env class (base class included). */
const SCHEMAS = {
  ingest: envVariables(IngestEnv),
  worker: [...envVariables(WorkerEnv), NAMED_URL_VARIABLES],
  'jandi-sink': sinkVariables,
};
type App = keyof typeof SCHEMAS;
const APPS = Object.keys(SCHEMAS) as App[];

const readBy = (app: App) => new Set(SCHEMAS[app]);
const allRead = new Set(APPS.flatMap((app) => SCHEMAS[app]));
const appsReading = (name: string) => APPS.filter((app) => readBy(app).has(name));

/** The README table's App column: "both" is ingest and worker, "sink" the jandi-sink. */
const APP_COLUMN: Record<string, App[]> = {
  both: ['ingest', 'worker'],
  ingest: ['ingest'],
  worker: ['worker'],
  sink: ['jandi-sink'],
};

describe('every environment variable the apps read is documented', () => {
  it('reads the variables from the schemas (the listing itself works)', () => {
    expect(SCHEMAS.ingest).toEqual(
      expect.arrayContaining(['REDIS_URL', 'PORT', 'POPBILL_BASIC_AUTH', 'BULL_BOARD_USER']),
    );
    expect(SCHEMAS.worker).toEqual(
      expect.arrayContaining(['JANDI_WEBHOOK_URL', 'JANDI_WEBHOOK_URL_<NAME>', 'ADMIN_TOKEN']),
    );
    expect(readBy('worker').has('REDIS_CLUSTER_NODES')).toBe(true);
    expect(readBy('ingest').has('JANDI_WEBHOOK_URL')).toBe(false);
    expect(SCHEMAS['jandi-sink']).toEqual(['PORT']);
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

  it('in the README configuration table, naming the apps that read it, and nothing else is there', () => {
    const rows = [
      ...read('README.md').matchAll(/^\|\s*`([A-Z][A-Z0-9_<>]+)`\s*\|\s*([a-z, -]+?)\s*\|/gm),
    ].map((m) => ({
      name: m[1],
      apps: m[2]
        .split(',')
        .flatMap((word) => APP_COLUMN[word.trim()] ?? [`unknown app "${word.trim()}"`])
        .sort(),
    }));
    const table = rows.map((row) => row.name);
    expect([...allRead].filter((name) => !table.includes(name))).toEqual([]);
    expect(table.filter((name) => !allRead.has(name))).toEqual([]);
    expect(rows.filter((row) => row.apps.join() !== appsReading(row.name).sort().join())).toEqual(
      [],
    );
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
