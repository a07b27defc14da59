import { parseArgs } from 'node:util';
import { RELAY_QUEUE } from '@app/contracts';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { bullConnection, loadQueueConfig } from '../worker.config';
import { checkReplayFilter, DeadLetters, type ReplayFilter } from './dead-letters';

/** npm run replay -- --all | --reason 40000 | --since 2026-11-10T00:00:00Z --until … | --id <jobId> [--dry-run] */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      all: { type: 'boolean' },
      reason: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      id: { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  });
  const filter: ReplayFilter = {
    all: values.all,
    reason: values.reason,
    since: values.since,
    until: values.until,
    id: values.id,
  };
  checkReplayFilter(filter);
  const config = loadQueueConfig();
  const connection = bullConnection(config);
  const queue = new Queue(RELAY_QUEUE, { connection, prefix: config.queuePrefix });
  try {
    const deadLetters = new DeadLetters(queue);
    if (values['dry-run']) {
      for (const letter of await deadLetters.list(filter))
        console.log(`${letter.id}\t${letter.failedAt}\t${letter.reason}`);
      return;
    }
    const replayed = await deadLetters.replay(filter);
    for (const id of replayed) console.log(`replayed ${id}`);
    console.log(`${replayed.length} dead letter(s) replayed`);
  } finally {
    await queue.close();
    if (connection instanceof Cluster) connection.disconnect();
  }
}

main().catch((error: Error) => {
  console.error(`replay failed: ${error.message}`);
  process.exit(1);
});
