import { RedisServer } from '../../../test/support/redis';
import { IngestUnderTest, startIngest } from './ingest-harness';

const AUTH = { authorization: `Basic ${Buffer.from('ops:board-pw').toString('base64')}` };

describe('Bull Board answers', () => {
  let redis: RedisServer;
  let ingest: IngestUnderTest;
  beforeAll(async () => {
    redis = await RedisServer.start();
    ingest = await startIngest({
      REDIS_URL: redis.url,
      BULL_BOARD_USER: 'ops',
      BULL_BOARD_PASSWORD: 'board-pw',
    });
  });
  afterAll(async () => {
    await ingest.close().catch(() => undefined);
    await redis.stop();
  });

  const board = (path: string) =>
    fetch(`${ingest.adminUrl}/admin/queues${path}`, { headers: AUTH });

  it.each(['', '/api/queues'])('forbid framing and sniffing and carry a CSP (%s)', async (path) => {
    const response = await board(path);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
  });

  it('carries the same headers on the 401 challenge', async () => {
    const response = await fetch(`${ingest.adminUrl}/admin/queues`);
    expect(response.status).toBe(401);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('answers a generic 5xx, without Redis errors or stack traces, when Redis is gone', async () => {
    await redis.kill();
    const response = await board('/api/queues');
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const text = await response.text();
    expect(text).toMatch(/see the ingest log/);
    expect(text).not.toMatch(
      /redis|ECONNREFUSED|max retries|connection|\bat \S|\/node_modules\/|\.js:\d/i,
    );
  });
});
