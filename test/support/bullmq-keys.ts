import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { QueueKeys } from 'bullmq';

/**
 * Every name BullMQ gives a key of a queue, read from BullMQ itself (its key table and the
 * literal key names in its sources), plus the per-job forms and patterns it builds at run time.
 */
export function bullmqKeySuffixes(): string[] {
  const fromKeyTable = Object.keys(new QueueKeys('p').getKeys('q'));
  const classes = join(dirname(require.resolve('bullmq')), 'classes');
  const fromSources = readdirSync(classes)
    .filter((file) => file.endsWith('.js'))
    .flatMap((file) =>
      [...readFileSync(join(classes, file), 'utf8').matchAll(/toKey\('([^']*)'/g)].map(
        (match) => match[1],
      ),
    );
  const runTimeForms = [
    'waiting',
    'metrics',
    'de:x',
    'repeat:x',
    'metrics:completed',
    'x:lock',
    'x:logs',
    'x:dependencies',
    'x:processed',
  ];
  return [...new Set([...fromKeyTable, ...fromSources, ...runTimeForms])].filter(Boolean);
}
