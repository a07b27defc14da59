import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './support/process';

/** What opens or finds a Redis from a spec; a spec that imports one is a *.redis-spec.ts. */
const CONNECTING: Record<string, RegExp> = {
  ioredis: /^(default|Redis)$/,
  bullmq: /^(Queue|Worker|QueueEvents|FlowProducer|JobScheduler)$/,
  '@nestjs/bullmq': /^BullModule$/,
};
const REDIS_SUPPORT = /(^|\/)support\/(redis|global-setup)$/;

/** The Redis-reaching imports of one source file, as "module: name" (type-only ones are harmless). */
function redisImports(source: string): string[] {
  const found: string[] = [];
  const statements =
    /import\s+(type\s+)?([\w\s{},*]*?)\s*from\s+'([^']+)'|(?:require|import)\('([^']+)'\)/g;
  for (const [, typeOnly, clause = '', from, dynamic] of source.matchAll(statements)) {
    const module = from ?? dynamic;
    if (REDIS_SUPPORT.test(module)) found.push(module);
    const connecting = CONNECTING[module];
    if (!connecting || typeOnly) continue;
    if (dynamic) found.push(module);
    for (const name of importedNames(clause))
      if (name === '*' || connecting.test(name)) found.push(`${module}: ${name}`);
  }
  return found;
}

/** Value bindings of an import clause: "default", "*" for a namespace, names as exported. */
function importedNames(clause: string): string[] {
  const names: string[] = [];
  const braces = /\{([^}]*)\}/.exec(clause);
  const outside = clause.replace(/\{[^}]*\}/, '').replace(/\*\s+as\s+\w+/, '* ');
  if (/\*/.test(outside)) names.push('*');
  if (/^\s*\w+/.test(outside)) names.push('default');
  for (const entry of braces?.[1].split(',') ?? []) {
    const [name, typeOnly] = [entry.trim().replace(/^type\s+/, ''), /^\s*type\s/.test(entry)];
    if (name && !typeOnly) names.push(name.split(/\s+as\s+/)[0]);
  }
  return names;
}

function specsUnder(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.spec.ts') && !file.includes('node_modules'))
    .map((file) => join(dir, file));
}

describe('unit specs (*.spec.ts), which `npm run test:unit` runs without Redis', () => {
  it('import nothing that reaches Redis: such a spec is named *.redis-spec.ts', () => {
    const offenders = ['apps', 'libs', 'test']
      .flatMap(specsUnder)
      // This file's samples below are strings, not imports.
      .filter((file) => file !== relative(REPO_ROOT, __filename))
      .map((file) => ({ file, imports: redisImports(readFileSync(join(REPO_ROOT, file), 'utf8')) }))
      .filter(({ imports }) => imports.length > 0);
    expect(offenders).toEqual([]);
  });

  it.each([
    ["import Redis from 'ioredis';", ['ioredis: default']],
    ["import { Redis as Client } from 'ioredis';", ['ioredis: Redis']],
    ["import { Queue, UnrecoverableError } from 'bullmq';", ['bullmq: Queue']],
    ["import {\n  type Job,\n  Worker,\n} from 'bullmq';", ['bullmq: Worker']],
    ["import * as bullmq from 'bullmq';", ['bullmq: *']],
    ["import { BullModule } from '@nestjs/bullmq';", ['@nestjs/bullmq: BullModule']],
    [
      "import { TEST_REDIS_URL } from '../../../../test/support/redis';",
      ['../../../../test/support/redis'],
    ],
    ["import globalSetup from './support/global-setup';", ['./support/global-setup']],
    ["const { Queue } = require('bullmq');", ['bullmq']],
  ])('flag %j', (source, expected) => expect(redisImports(source)).toEqual(expected));

  it.each([
    "import type Redis from 'ioredis';",
    "import { type Job, UnrecoverableError, QueueKeys } from 'bullmq';",
    "import { Cluster } from 'ioredis';",
    "import { freePort } from './support/process';",
    "import { worstWindow } from '../../../../test/support/quota-math';",
  ])('pass %j', (source) => expect(redisImports(source)).toEqual([]));
});
