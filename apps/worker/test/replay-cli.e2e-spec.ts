import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { RELAY_QUEUE } from '@app/contracts';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { freePort, REPO_ROOT } from '../../../test/support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis';

const CLI = join(REPO_ROOT, 'dist', 'apps', 'worker', 'replay.cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as `npm run replay` does, stdin not a terminal. */
function replay(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', CLI, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end();
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run replay (the built CLI)', () => {
  const prefix = uniquePrefix('replaycli');
  const env = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix };
  const queue = new Queue(RELAY_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix });

  async function deadLetters(count: number, reason: string): Promise<void> {
    const start = await queue.count();
    await queue.addBulk(
      Array.from({ length: count }, (_, i) => ({
        name: 'test',
        data: { i },
        opts: { jobId: `${reason}-${start + i}`, removeOnFail: false },
      })),
    );
    const worker = new Worker(
      RELAY_QUEUE,
      async () => {
        throw new UnrecoverableError(`JANDI rejected: HTTP 400 code ${reason}`);
      },
      { connection: { url: TEST_REDIS_URL }, prefix, concurrency: 20, autorun: false },
    );
    let failed = 0;
    const done = new Promise<void>((resolve) =>
      worker.on('failed', () => ++failed === count && resolve()),
    );
    void worker.run();
    await done;
    await worker.close();
  }

  afterAll(async () => {
    await queue.close();
    await deletePrefix(TEST_REDIS_URL, prefix);
  });

  it('--help prints usage and exits 0', async () => {
    const run = await replay(['--help'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: npm run replay -- /);
    expect(run.stdout).toContain('--dry-run');
  });

  it.each([
    [[], /give --all, or at least one of --reason, --since, --until, --id/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--since', 'yesterday'], /--since is not a date/],
    [['--reason'], /--reason.*argument missing/],
  ])('usage error %j exits 2 naming it, with a pointer to --help', async (args, message) => {
    const run = await replay(args, env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('npm run replay -- --help');
    expect(run.stdout).toBe('');
  });

  it('--dry-run prints a header and "0 matched" when nothing matches', async () => {
    const run = await replay(['--all', '--dry-run'], env);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^JOB ID\s+FAILED AT\s+REASON$/);
    expect(run.stdout).toMatch(/^0 matched$/m);
  });

  it('--dry-run --json lists what matches, and replays nothing', async () => {
    await deadLetters(2, '40000');
    await deadLetters(1, '50000');
    const run = await replay(['--reason', '40000', '--dry-run', '--json'], env);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { matched: number; deadLetters: { id: string }[] };
    expect(out.matched).toBe(2);
    expect(out.deadLetters.map((d) => d.id).sort()).toEqual(['40000-0', '40000-1']);
    expect(await queue.getJobCountByTypes('failed')).toBe(3);
  });

  it('--all refuses without a terminal to confirm on, unless --yes', async () => {
    const refused = await replay(['--all'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--all replays 3 dead letter\(s\).*add --yes/);
    expect(await queue.getJobCountByTypes('failed')).toBe(3);

    const run = await replay(['--all', '--yes', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ matched: 3 });
    expect(await queue.getJobCountByTypes('failed')).toBe(0);
    expect(await queue.getJobCountByTypes('waiting')).toBe(3);
  });

  it('reports progress on a long replay and the total at the end', async () => {
    await queue.drain();
    await deadLetters(250, '40000');
    const run = await replay(['--reason', '40000'], env);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/replayed 100\/250/);
    expect(run.stderr).toMatch(/replayed 200\/250/);
    expect(run.stdout.slice(-200)).toMatch(/^250 matched, 250 replayed$/m);
  }, 60_000);

  it('exits 1 with a clear message when Redis cannot be reached', async () => {
    const port = await freePort();
    const run = await replay(['--all', '--dry-run'], {
      REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`,
      QUEUE_PREFIX: prefix,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^replay failed: Redis \(.*\) did not answer within \d+ s/);
    expect(run.stderr).toContain(`127.0.0.1:${port}`);
    expect(run.stderr).not.toContain('hunter2');
  }, 30_000);
});
