import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort, waitFor } from './process';
import requireSupportedNode from './node-version';
import { answersPing } from './redis';

declare global {
  /** The redis-server this run started; jest shares globalThis with global-teardown.ts. */
  var __testRedis: ChildProcess | undefined;
}

/**
 * Tests share one Redis, passed to them as TEST_REDIS_URL: the one at TEST_REDIS_URL, REDIS_URL
 * or 127.0.0.1:6379 if it answers, else a throwaway redis-server on a free port, without disk.
 */
export default async function globalSetup(): Promise<void> {
  requireSupportedNode();
  const url = process.env.TEST_REDIS_URL || process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (await answersPing(url)) {
    process.env.TEST_REDIS_URL = url;
    return;
  }
  if (spawnSync('redis-server', ['--version'], { env: process.env }).error)
    throw new Error(
      `No Redis answers at ${url} and redis-server is not installed. Install it ` +
        `(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) and the ` +
        `tests start their own, or set REDIS_URL to a Redis the tests may write to.`,
    );
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore', env: process.env },
  );
  globalThis.__testRedis = child;
  const ownUrl = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      return answersPing(ownUrl);
    },
    10_000,
    `the tests' redis-server on port ${port}`,
    100,
  );
  process.env.TEST_REDIS_URL = ownUrl;
}
