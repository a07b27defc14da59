import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { RELAY_QUEUE } from '@app/contracts';
import { describeRedis } from '@app/redis';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { bullConnection, loadQueueConfig } from '../config/worker.config';
import { DeadLetters, type DeadLetter, type ReplayFilter } from './dead-letters';

const USAGE = `Usage: npm run replay -- (--all | --reason TEXT | --since TIME | --until TIME | --id JOB) [options]

Puts dead letters (failed jobs of the relay queue) back to work with fresh attempts. Criteria
combine: every one given must match.

  --all            every dead letter (asks to confirm unless --yes)
  --reason TEXT    failure reason contains TEXT, e.g. 40000
  --since TIME     failed at or after TIME (ISO 8601, e.g. 2026-11-10T00:00:00Z)
  --until TIME     failed at or before TIME
  --id JOB         one job id
  --dry-run        list what matches, replay nothing
  --yes            do not ask before replaying everything
  --json           print JSON instead of text
  -h, --help       this help

Reads REDIS_URL (or REDIS_SENTINELS / REDIS_CLUSTER_NODES) and QUEUE_PREFIX like the worker.
Exit status: 0 done, 1 failed (e.g. Redis unreachable), 2 usage error or not confirmed.`;

/** How long Redis may take to answer before the CLI gives up. */
const CONNECT_TIMEOUT_MS = 5000;
/** A progress line every this many replays. */
const PROGRESS_EVERY = 100;

class UsageError extends Error {}

interface Options {
  filter: ReplayFilter;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
}

function parseOptions(args: string[]): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        all: { type: 'boolean' },
        reason: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        id: { type: 'string' },
        'dry-run': { type: 'boolean' },
        yes: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const filter: ReplayFilter = {
    all: values.all,
    reason: values.reason,
    since: values.since,
    until: values.until,
    id: values.id,
  };
  if (!filter.all && !filter.reason && !filter.since && !filter.until && !filter.id)
    throw new UsageError('give --all, or at least one of --reason, --since, --until, --id');
  for (const key of ['since', 'until'] as const) {
    if (filter[key] !== undefined && Number.isNaN(Date.parse(filter[key])))
      throw new UsageError(`--${key} is not a date: "${filter[key]}"`);
  }
  return { filter, dryRun: !!values['dry-run'], yes: !!values.yes, json: !!values.json };
}

function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

async function confirmAll(count: number): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new UsageError(
      `--all replays ${count} dead letter(s) and there is no terminal to confirm on: add --yes`,
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`Replay all ${count} dead letter(s)? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

function printList(letters: DeadLetter[]): void {
  console.log('JOB ID\tFAILED AT\tREASON');
  for (const letter of letters)
    console.log(`${letter.id}\t${letter.failedAt ?? '-'}\t${letter.reason}`);
  console.log(`${letters.length} matched`);
}

async function run(options: Options): Promise<number> {
  const config = loadQueueConfig();
  const connection = bullConnection(config);
  const queue = new Queue(RELAY_QUEUE, { connection, prefix: config.queuePrefix });
  // Connection errors are retried; the timeout below reports the last one, once.
  let lastError = '';
  queue.on('error', (error: NodeJS.ErrnoException) => (lastError = error.code ?? error.name));
  try {
    await within(queue.waitUntilReady(), CONNECT_TIMEOUT_MS, '').catch(() => {
      throw new Error(
        `Redis (${describeRedis(config)}) did not answer within ${CONNECT_TIMEOUT_MS / 1000} s${lastError ? ` (${lastError})` : ''}`,
      );
    });
    const deadLetters = new DeadLetters(queue);
    const letters = await deadLetters.list(options.filter);
    if (options.dryRun) {
      if (options.json)
        console.log(JSON.stringify({ matched: letters.length, deadLetters: letters }));
      else printList(letters);
      return 0;
    }
    if (
      options.filter.all &&
      !options.yes &&
      letters.length > 0 &&
      !(await confirmAll(letters.length))
    ) {
      console.error('nothing replayed');
      return 2;
    }
    const replayed = await deadLetters.replayLetters(letters, (done) => {
      if (done % PROGRESS_EVERY === 0) console.error(`replayed ${done}/${letters.length}`);
    });
    if (options.json) {
      console.log(JSON.stringify({ matched: letters.length, replayed }));
    } else {
      for (const id of replayed) console.log(`replayed ${id}`);
      console.log(`${letters.length} matched, ${replayed.length} replayed`);
    }
    return 0;
  } finally {
    // A Redis that never answered would hold a graceful close open: the exit below ends it.
    await within(queue.close(), 1000, 'close').catch(() => undefined);
    if (connection instanceof Cluster) connection.disconnect();
  }
}

async function main(): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
    if (options === 'help') {
      console.log(USAGE);
      return 0;
    }
    return await run(options);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`replay: ${error.message}\nSee: npm run replay -- --help`);
      return 2;
    }
    console.error(`replay failed: ${(error as Error).message}`);
    return 1;
  }
}

/** Exits once everything printed is written: a pipe takes stdout asynchronously. */
function exitAfterOutput(code: number): void {
  let pending = 2;
  const written = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', written);
  process.stderr.write('', written);
}

void main().then(exitAfterOutput);
