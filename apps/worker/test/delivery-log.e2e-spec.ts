import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RELAY_BACKOFF_TYPE, RELAY_QUEUE } from '@app/contracts';
import { chromium, type Browser } from 'playwright-core';
import {
  freePort,
  REPO_ROOT,
  startApp,
  waitFor,
  type RunningApp,
} from '../../../test/support/process';
import { TEST_REDIS_URL } from '../../../test/support/redis';
import { DEFAULT_PATH, WorkerHarness } from './worker-harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const BOARD = { username: 'operator', password: 'board-secret' };

describe('the delivery log of a job, in Bull Board', () => {
  const harness = new WorkerHarness('dlog');
  let ingest: RunningApp;
  let base = '';
  let browser: Browser;
  let id = '';

  beforeAll(async () => {
    await harness.start();
    await harness.startWorker({ RETRY_BACKOFF_CEILING_MS: '1000' });
    const port = await freePort();
    const adminPort = await freePort();
    // Bull Board lives on ingest's admin port.
    base = `http://127.0.0.1:${adminPort}`;
    ingest = await startApp(
      'ingest',
      {
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: harness.prefix,
        HOST: '127.0.0.1',
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        LOG_LEVEL: 'warn',
        BULL_BOARD_USER: BOARD.username,
        BULL_BOARD_PASSWORD: BOARD.password,
      },
      `${base}/health/ready`,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    await ingest?.stop();
    await harness.close();
  });

  it('logs every attempt: destination, answer, duration, quota wait and decision', async () => {
    harness.standin.setMode(DEFAULT_PATH, 'server-error');
    [id] = await harness.enqueue(1, 'taxinvoice-nts-failed.json', 'logged', {
      backoff: { type: RELAY_BACKOFF_TYPE, delay: 200 },
    });
    await waitFor(() => harness.standin.count(DEFAULT_PATH, 503) >= 2, 20_000, 'two 503s');
    harness.standin.setMode(DEFAULT_PATH, 'invalid-token');
    await waitFor(
      async () => (await harness.queue.getJobState(id)) === 'failed',
      20_000,
      'the dead letter',
    );
    const dead = await harness.queue.getJob(id);
    expect(dead?.failedReason).toBe('JANDI rejected: HTTP 400 code 40000 "invalid webhook token"');
    // The retry line is written just after the job moves on; wait for the last one.
    const attempts = dead?.attemptsMade ?? 0;
    const logs = async () => (await harness.queue.getJobLogs(id)).logs;
    await waitFor(async () => (await logs()).length >= attempts, 5000, 'one line per attempt');
    const lines = await logs();
    expect(lines).toHaveLength(attempts);
    const retry =
      /^attempt \d+ → default: HTTP 503 "unavailable" in \d+ ms, quota wait \d+ ms → retry at \d{4}-\d\d-\d\dT/;
    for (const line of lines.slice(0, -1)) expect(line).toMatch(retry);
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^attempt ${attempts} → default: HTTP 400 code 40000 "invalid webhook token" in \\d+ ms, quota wait \\d+ ms → dead letter$`,
      ),
    );
    expect(lines.join('\n')).not.toContain('default-token');
  });

  it('shows them in the Logs tab of the dead letter, in a real browser', async () => {
    const context = await browser.newContext({
      httpCredentials: BOARD,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await page.goto(`${base}/admin/queues/queue/${RELAY_QUEUE}/${id}`);
    await page.getByText('TAXINVOICE.STATE/NTS').first().waitFor({ timeout: 15_000 });
    await page.getByRole('tab', { name: 'Logs', exact: true }).first().click();
    const lastLine = page.getByText(/HTTP 400 code 40000 "invalid webhook token".*dead letter/);
    await lastLine.first().waitFor({ timeout: 15_000 });
    expect(await page.getByText(/HTTP 503 .* retry at/).count()).toBeGreaterThanOrEqual(2);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board-job-logs.png'), fullPage: true });
    await context.close();
  });
});
