import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import globalSetup from './support/global-setup';
import globalTeardown from './support/global-teardown';
import { freePort } from './support/process';

/** npm test on a machine where no Redis answers: jest's global setup brings its own. */
describe("the tests' Redis", () => {
  const saved = { ...process.env };
  let deadUrl: string;

  beforeEach(async () => {
    deadUrl = `redis://127.0.0.1:${await freePort()}`;
    process.env.TEST_REDIS_URL = deadUrl;
    delete process.env.REDIS_URL;
  });
  afterEach(() => {
    process.env = { ...saved };
    globalThis.__testRedis = undefined;
  });

  it('is a throwaway redis-server on a free port when none answers, stopped afterwards', async () => {
    await globalSetup();
    const url = process.env.TEST_REDIS_URL!;
    expect(url).not.toBe(deadUrl);
    const redis = new Redis(url);
    try {
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.config('GET', 'save')).toEqual(['save', '']);
    } finally {
      await redis.quit();
    }
    const server = globalThis.__testRedis!;
    await globalTeardown();
    expect(server.exitCode ?? server.signalCode).not.toBeNull();
  });

  it('names what to install when no Redis answers and redis-server is missing', async () => {
    const emptyPath = mkdtempSync(join(tmpdir(), 'no-redis-'));
    process.env.PATH = emptyPath;
    try {
      await expect(globalSetup()).rejects.toThrow(
        /No Redis answers at redis:\/\/127\.0\.0\.1:\d+ and redis-server is not installed.*apt-get install redis-server/,
      );
    } finally {
      rmSync(emptyPath, { recursive: true });
    }
  });
});
