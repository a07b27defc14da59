import { freePort, startApp, type RunningApp } from '../../../test/support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis';

const BOARD = { user: 'ops', password: 'board-secret' };
const basic = `Basic ${Buffer.from(`${BOARD.user}:${BOARD.password}`).toString('base64')}`;

/** Every path of the admin plane, with the answer it gives there without and with credentials. */
const ADMIN_PATHS: { path: string; anonymous: number; authorized: number }[] = [
  { path: '/metrics', anonymous: 200, authorized: 200 },
  { path: '/docs', anonymous: 200, authorized: 200 },
  { path: '/docs-json', anonymous: 200, authorized: 200 },
  { path: '/admin/queues', anonymous: 401, authorized: 200 },
  { path: '/admin/queues/api/queues', anonymous: 401, authorized: 200 },
];

describe('ingest: public port and admin port (e2e)', () => {
  const prefix = uniquePrefix('admin-plane');
  let ingest: RunningApp;
  let publicUrl: string;
  let adminUrl: string;

  beforeAll(async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    publicUrl = `http://127.0.0.1:${port}`;
    adminUrl = `http://127.0.0.1:${adminPort}`;
    ingest = await startApp(
      'ingest',
      {
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        HOST: '127.0.0.1',
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        LOG_LEVEL: 'warn',
        BULL_BOARD_USER: BOARD.user,
        BULL_BOARD_PASSWORD: BOARD.password,
      },
      `${publicUrl}/health/ready`,
    );
  });

  afterAll(async () => {
    await ingest?.stop();
    await deletePrefix(TEST_REDIS_URL, prefix);
  });

  const get = (url: string, auth = false) =>
    fetch(url, { redirect: 'manual', headers: auth ? { authorization: basic } : {} });

  it('answers every admin path on the public port exactly like an unknown path', async () => {
    const unknown = await get(`${publicUrl}/no-such-path`);
    const unknownBody = (await unknown.json()) as { message: string };
    expect(unknown.status).toBe(404);
    for (const { path } of ADMIN_PATHS) {
      for (const auth of [false, true]) {
        const response = await get(`${publicUrl}${path}`, auth);
        const body = (await response.json()) as { message: string };
        expect({ path, auth, status: response.status }).toEqual({ path, auth, status: 404 });
        expect(body.message).toBe(unknownBody.message.replace('/no-such-path', path));
      }
    }
  });

  it('serves the admin paths on the admin port, Bull Board behind its own auth', async () => {
    for (const { path, anonymous, authorized } of ADMIN_PATHS) {
      const answers = {
        path,
        anonymous: (await get(`${adminUrl}${path}`)).status,
        authorized: (await get(`${adminUrl}${path}`, true)).status,
      };
      expect(answers).toEqual({ path, anonymous, authorized });
    }
  });

  it("takes Popbill's webhook on the public port only, and health on both", async () => {
    const post = (base: string) =>
      fetch(`${base}/webhooks/popbill`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'pb-webhook-type': 'TAXINVOICE.STATE' },
        body: '{}',
      });
    expect((await post(adminUrl)).status).toBe(404);
    expect((await post(publicUrl)).status).not.toBe(404);
    for (const base of [publicUrl, adminUrl]) {
      expect((await get(`${base}/health/live`)).status).toBe(200);
      expect((await get(`${base}/health/ready`)).status).toBe(200);
    }
  });
});
