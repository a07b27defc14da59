import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { DELIVER_EVENT_JOB, RELAY_JOB_OPTIONS, RELAY_QUEUE } from '@app/contracts';
import { JandiStandin } from '@app/jandi-standin';
import { Queue } from 'bullmq';
import { fixtureJob } from '../apps/worker/test/popbill-fixtures';
import { composeConfig } from './support/compose';
import { freePort, REPO_ROOT, startApp, waitFor, type RunningApp } from './support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from './support/redis';

const run = promisify(execFile);

const ACCOUNTING_PATH = '/connect-api/webhook/11/accounting-token';
const DEFAULT_PATH = '/connect-api/webhook/1/default-token';

/** What an operator writes in .env, following .env.example and config/routes.example.json. */
const DOT_ENV = [
  `JANDI_WEBHOOK_URL=https://wh.jandi.com${DEFAULT_PATH}`,
  `JANDI_WEBHOOK_URL_ACCOUNTING=https://wh.jandi.com${ACCOUNTING_PATH}`,
  'JANDI_ROUTES_FILE=config/routes.example.json',
  'ADMIN_TOKEN=compose-admin-token',
].join('\n');

/** The image's WORKDIR, where relative paths in the container start. */
const WORKDIR = '/app';

/** Maps a path inside the container to the host file behind a bind mount. */
function hostPathOf(containerPath: string, volumes: string[]): string {
  const absolute = posix.resolve(WORKDIR, containerPath);
  for (const volume of volumes) {
    const [source, target] = volume.split(':');
    if (isAbsolute(source) && absolute.startsWith(`${target}/`)) {
      return join(source, absolute.slice(target.length + 1));
    }
  }
  throw new Error(`${containerPath} is not on a mounted volume`);
}

/** Runs a README command line with a `docker compose exec` that runs in the worker's environment. */
async function runReadmeCommand(
  line: string,
  containerEnv: Record<string, string>,
): Promise<string> {
  const bin = mkdtempSync(join(tmpdir(), 'relay-docker-'));
  try {
    const docker = join(bin, 'docker');
    writeFileSync(
      docker,
      [
        '#!/bin/sh',
        '# docker compose exec [-e NAME=VALUE]... SERVICE COMMAND...',
        '[ "$1 $2" = "compose exec" ] || exit 64',
        'shift 2',
        'while [ "$1" = "-e" ]; do export "$2"; shift 2; done',
        'shift',
        'exec "$@"',
      ].join('\n'),
    );
    chmodSync(docker, 0o755);
    const { stdout } = await run('sh', ['-c', line], {
      env: { ...containerEnv, PATH: `${bin}:${process.env.PATH ?? ''}` },
    });
    return stdout;
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

describe('a worker started from the resolved `docker-compose config` (e2e)', () => {
  const prefix = uniquePrefix('compose-run');
  const standin = new JandiStandin();
  const queue = new Queue(RELAY_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix });
  let worker: RunningApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    await standin.listen();
    const { worker: service } = await composeConfig(DOT_ENV);
    const adminPort = await freePort();
    // Exactly compose's environment; only the hosts are ours: the tests' Redis and the stand-in.
    env = Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([name, value]) => [
        name,
        String(value ?? '').replace(/^https:\/\/wh\.jandi\.com/, standin.url('')),
      ]),
    );
    env = {
      ...env,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: String(adminPort),
      JANDI_ROUTES_FILE: hostPathOf(env.JANDI_ROUTES_FILE, service.volumes ?? []),
      LOG_LEVEL: 'warn',
    };
    worker = await startApp('worker', env, `http://127.0.0.1:${adminPort}/health/ready`);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await queue.close();
    await standin.close();
    await deletePrefix(TEST_REDIS_URL, prefix);
  });

  const enqueue = (fixture: string, eventId: string) =>
    queue.add(DELIVER_EVENT_JOB, fixtureJob(fixture, { eventId }), {
      ...RELAY_JOB_OPTIONS,
      jobId: eventId,
    });
  const idsAt = (path: string) =>
    standin
      .acceptedFor(path)
      .map((m) => m.connectInfo?.find((e) => e.title === '이벤트 ID')?.description);

  it('gets the named destination and the mounted routes file from .env', () => {
    expect(env.JANDI_WEBHOOK_URL_ACCOUNTING).toBe(standin.url(ACCOUNTING_PATH));
    expect(env.JANDI_ROUTES_FILE).toBe(join(REPO_ROOT, 'config', 'routes.example.json'));
  });

  it('routes an NTS failure to the named destination, everything else to the default', async () => {
    await enqueue('taxinvoice-nts-failed.json', 'compose-nts-failed');
    await enqueue('taxinvoice-issue.json', 'compose-issue');
    await waitFor(
      () => idsAt(ACCOUNTING_PATH).length + idsAt(DEFAULT_PATH).length >= 2,
      20_000,
      'both events at the stand-in',
    );
    expect({ accounting: idsAt(ACCOUNTING_PATH), default: idsAt(DEFAULT_PATH) }).toEqual({
      accounting: ['compose-nts-failed'],
      default: ['compose-issue'],
    });
  });

  it("follows the README's admin recipe: list the dead letters, then replay them", async () => {
    const recipe = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^docker compose exec .*worker node -e /.test(line));
    expect(recipe).toHaveLength(2);
    const [list, replay] = recipe;

    standin.setMode(DEFAULT_PATH, 'invalid-token');
    await enqueue('taxinvoice-open.json', 'compose-dead');
    await waitFor(
      async () => (await (await queue.getJob('compose-dead'))?.getState()) === 'failed',
      20_000,
      'the dead letter',
    );
    const listed = await runReadmeCommand(list, env);
    expect(listed).toMatch(/^200 /);
    expect(listed).toContain('"id":"compose-dead"');

    standin.setMode(DEFAULT_PATH, 'ok');
    const replayed = await runReadmeCommand(replay, env);
    expect(replayed).toMatch(/^200 /);
    expect(replayed).toContain('compose-dead');
    await waitFor(() => idsAt(DEFAULT_PATH).includes('compose-dead'), 20_000, 'the replayed event');
  });
});
