import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO_ROOT, startApp, waitFor, type RunningApp } from './support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from './support/redis';

/** The README's quick-start curl line, as URL, headers and body. */
function readmeCurl(): { url: string; headers: Record<string, string>; body: string } {
  const line = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
    .split('\n')
    .find((text) => text.startsWith('curl ') && text.includes('/webhooks/popbill'));
  if (!line) throw new Error('README has no curl line posting to /webhooks/popbill');
  const url = /curl -i (\S+)/.exec(line)?.[1] ?? '';
  const headers = Object.fromEntries(
    [...line.matchAll(/-H '([^:]+): ([^']*)'/g)].map((m) => [m[1], m[2]]),
  );
  const body = /-d '([^']*)'/.exec(line)?.[1] ?? '';
  return { url, headers, body };
}

describe('the README quick start: a sample event shows up in the local JANDI sink', () => {
  const prefix = uniquePrefix('quick');
  const apps: RunningApp[] = [];
  let sinkUrl: string;
  let ingestUrl: string;

  beforeAll(async () => {
    const [sinkPort, ingestPort, metricsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    sinkUrl = `http://127.0.0.1:${sinkPort}`;
    ingestUrl = `http://127.0.0.1:${ingestPort}`;
    const redis = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' };
    apps.push(await startApp('jandi-sink', { PORT: String(sinkPort) }, `${sinkUrl}/health`));
    apps.push(
      await startApp(
        'ingest',
        { ...redis, HOST: '127.0.0.1', PORT: String(ingestPort) },
        `${ingestUrl}/health/ready`,
      ),
    );
    apps.push(
      await startApp(
        'worker',
        {
          ...redis,
          // What docker-compose.yml gives the worker when .env has no JANDI_WEBHOOK_URL.
          JANDI_WEBHOOK_URL: `${sinkUrl}/connect-api/webhook/1/local-sink`,
          METRICS_PORT: String(metricsPort),
        },
        `http://127.0.0.1:${metricsPort}/health/ready`,
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await deletePrefix(TEST_REDIS_URL, prefix);
  });

  it('accepts the curl line and the sink page shows the rendered message', async () => {
    const curl = readmeCurl();
    expect(curl.url).toBe('http://localhost:3000/webhooks/popbill');
    const response = await fetch(curl.url.replace('http://localhost:3000', ingestUrl), {
      method: 'POST',
      headers: curl.headers,
      body: curl.body,
    });
    expect(response.status).toBe(200);

    let messages: { path: string; body: string }[] = [];
    await waitFor(
      async () => {
        messages = (await (await fetch(`${sinkUrl}/messages`)).json()) as typeof messages;
        return messages.length > 0;
      },
      15_000,
      'the message at the sink',
      100,
    );
    expect(messages).toEqual([
      expect.objectContaining({ path: '/connect-api/webhook/1/local-sink' }),
    ]);
    const page = await fetch(`${sinkUrl}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('1 message(s)');
    expect(html).toContain('026111009300000001');
  });
});
