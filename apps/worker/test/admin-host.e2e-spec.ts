import { freePort, startApp } from '../../../test/support/process';
import { TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis';

describe('ADMIN_HOST (e2e)', () => {
  it('serves /health, /metrics and /admin only on the address it is given', async () => {
    const port = await freePort();
    const worker = await startApp(
      'worker',
      {
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: uniquePrefix('admin-host'),
        JANDI_WEBHOOK_URL: 'http://127.0.0.1:9/connect-api/webhook/1/unused',
        ADMIN_HOST: '127.0.0.2',
        ADMIN_PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      `http://127.0.0.2:${port}/health/live`,
    );
    try {
      expect((await fetch(`http://127.0.0.2:${port}/metrics`)).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    } finally {
      await worker.stop();
    }
  });
});
