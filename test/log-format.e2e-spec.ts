import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JandiStandin } from '@app/jandi-standin';
import { freePort, REPO_ROOT, startApp } from './support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from './support/redis';

const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

const lines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('log lines of the built apps', () => {
  const prefix = uniquePrefix('logs');
  const standin = new JandiStandin();

  beforeAll(() => standin.listen());
  afterAll(async () => {
    await standin.close();
    await deletePrefix(TEST_REDIS_URL, prefix);
  });

  it.each([
    [
      'worker',
      {
        JANDI_WEBHOOK_URL: '', // set below, once the stand-in has a port
        ADMIN_TOKEN: 'admin-token-secret',
      },
      ['secret-jandi-token', 'admin-token-secret'],
    ],
    [
      'ingest',
      {
        POPBILL_BASIC_AUTH: 'popbill:basic-secret',
        BULL_BOARD_USER: 'ops',
        BULL_BOARD_PASSWORD: 'board-secret',
      },
      ['basic-secret', 'board-secret'],
    ],
  ] as const)(
    '%s: level names, its service, a startup line with version and redacted config, a stop line',
    async (app, extra, secrets) => {
      const port = await freePort();
      const env: Record<string, string> = {
        ...extra,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'info',
        ...(app === 'worker'
          ? {
              JANDI_WEBHOOK_URL: standin.url('/connect-api/webhook/1/secret-jandi-token'),
              METRICS_PORT: String(port),
            }
          : { PORT: String(port), HOST: '127.0.0.1' }),
      };
      const running = await startApp(app, env, `http://127.0.0.1:${port}/health/live`);
      await running.stop();
      const output = running.output();
      const all = lines(output);
      expect(all.length).toBeGreaterThan(1);
      for (const line of all) {
        expect(typeof line.level).toBe('string');
        expect(line.service).toBe(app);
      }
      const started = all.find((line) => line.outcome === 'started');
      expect(started).toMatchObject({ level: 'info', version, config: { queuePrefix: prefix } });
      expect(all.at(-1)).toMatchObject({ level: 'info', outcome: 'stopped', signal: 'SIGTERM' });
      for (const secret of secrets) expect(output).not.toContain(secret);
    },
  );
});
