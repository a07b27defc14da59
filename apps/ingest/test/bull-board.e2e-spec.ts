import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DELIVER_EVENT_JOB, RELAY_JOB_OPTIONS, RELAY_QUEUE } from '@app/contracts';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { chromium, type Browser } from 'playwright-core';
import { freePort, REPO_ROOT, startApp, type RunningApp } from '../../../test/support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { fixtureJob } from '../../worker/test/popbill-fixtures';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const USER = 'operator';
const PASSWORD = 'board-secret';

describe('Bull Board at /admin/queues, in a real browser', () => {
  const prefix = uniquePrefix('board');
  const queue = new Queue(RELAY_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix });
  let ingest: RunningApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    // One dead letter (a failed job), then three waiting events no worker takes.
    const failer = new Worker(
      RELAY_QUEUE,
      async () => {
        throw new UnrecoverableError('JANDI answered 40000 (test)');
      },
      { connection: { url: TEST_REDIS_URL }, prefix, autorun: false },
    );
    const dead = fixtureJob('taxinvoice-nts-failed.json', { eventId: 'dead-1' });
    await queue.add(DELIVER_EVENT_JOB, dead, { ...RELAY_JOB_OPTIONS, jobId: 'dead-1' });
    const failed = new Promise((resolve) => failer.once('failed', resolve));
    void failer.run();
    await failed;
    await failer.close();
    for (const id of ['wait-1', 'wait-2', 'wait-3']) {
      await queue.add(DELIVER_EVENT_JOB, fixtureJob('taxinvoice-issue.json', { eventId: id }), {
        ...RELAY_JOB_OPTIONS,
        jobId: id,
      });
    }

    const port = await freePort();
    const adminPort = await freePort();
    // The board lives on the admin port.
    base = `http://127.0.0.1:${adminPort}`;
    ingest = await startApp(
      'ingest',
      {
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        HOST: '127.0.0.1',
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        LOG_LEVEL: 'warn',
        BULL_BOARD_USER: USER,
        BULL_BOARD_PASSWORD: PASSWORD,
      },
      `${base}/health/ready`,
    );
    // launch() gives every run a fresh temporary profile.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await ingest?.stop();
    await queue.close();
    await deletePrefix(TEST_REDIS_URL, prefix);
  });

  it('answers 401 with a Basic challenge without credentials, and with wrong ones', async () => {
    const anonymous = await browser.newContext();
    const page = await anonymous.newPage();
    // Chromium gives up the navigation on a challenge it cannot answer; the 401 is still seen.
    const challenged = page.waitForResponse((r) => r.url() === `${base}/admin/queues`);
    await page.goto(`${base}/admin/queues`).catch(() => null);
    const response = await challenged;
    expect(response.status()).toBe(401);
    expect(response?.headers()['www-authenticate']).toMatch(/^Basic /);
    await anonymous.close();

    const wrong = await fetch(`${base}/admin/queues/api/queues`, {
      headers: { Authorization: `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
  });

  it('lists the relay queue with the counts Redis holds, dead letters included', async () => {
    const counts = await queue.getJobCounts('waiting', 'failed');
    expect(counts).toEqual({ waiting: 3, failed: 1 });

    const context = await browser.newContext({
      httpCredentials: { username: USER, password: PASSWORD },
      viewport: { width: 1280, height: 800 },
    });
    const page = await context.newPage();
    // The board must work under its CSP: nothing of its own may be refused (Google Fonts is).
    const refused: string[] = [];
    page.on('console', (message) => {
      const text = message.text();
      if (/Content Security Policy/.test(text) && !text.includes('fonts.googleapis.com')) {
        refused.push(text);
      }
    });
    const response = await page.goto(`${base}/admin/queues`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['x-frame-options']).toBe('DENY');
    expect(response?.headers()['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    const card = page.locator(`main li:has(a[title="${RELAY_QUEUE}"])`);
    await card.getByText(`${counts.waiting + counts.failed} Jobs`).waitFor({ timeout: 15_000 });
    expect(await card.innerText()).toMatch(/FAILED\s*1\b/i);
    const tab = (status: string) =>
      page.locator(`main a[href="/admin/queues/?status=${status}"]`).innerText();
    expect(await tab('waiting')).toMatch(/^WAITING\s*3$/i);
    expect(await tab('failed')).toMatch(/^FAILED\s*1$/i);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board.png'), fullPage: true });

    await page.goto(`${base}/admin/queues/queue/${RELAY_QUEUE}?status=failed`);
    await page.getByText('dead-1').first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board-dead-letters.png'), fullPage: true });
    expect(refused).toEqual([]);
    await context.close();
  });

  it('retries a dead letter through the board', async () => {
    const response = await fetch(`${base}/admin/queues/api/queues/${RELAY_QUEUE}/dead-1/retry`, {
      method: 'PUT',
      headers: { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
    });
    expect(response.status).toBe(204);
    expect(await queue.getJobState('dead-1')).toBe('waiting');
    expect(await queue.getJobCounts('waiting', 'failed')).toEqual({ waiting: 4, failed: 0 });
  });
});
