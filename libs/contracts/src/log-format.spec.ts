import { BlockList } from 'node:net';
import { redactConfig } from './log-format';

describe('redactConfig', () => {
  it('never shows a secret or a URL path, and keeps the rest readable', () => {
    const allowed = new BlockList();
    allowed.addAddress('54.180.62.221');
    const shown = redactConfig({
      redisUrl: 'redis://:hunter2@redis:6379',
      redis: { host: 'redis', port: 6379, password: 'hunter2', retryStrategy: () => 1 },
      destinations: { default: 'https://wh.jandi.com/connect-api/webhook/1/abc-token' },
      basicAuth: { user: 'popbill', password: 'pw' },
      apiKey: null,
      adminToken: 'admin-secret',
      bullBoard: { user: 'ops', password: 'board-pw' },
      allowedIps: allowed,
      concurrency: 8,
      digest: { enabled: true },
    });
    const text = JSON.stringify(shown);
    for (const secret of [
      'hunter2',
      'abc-token',
      'connect-api',
      '"pw"',
      'admin-secret',
      'board-pw',
    ])
      expect(text).not.toContain(secret);
    expect(shown).toMatchObject({
      redisUrl: 'redis://redis:6379',
      redis: { host: 'redis', port: 6379, password: '[redacted]' },
      destinations: { default: 'https://wh.jandi.com/[redacted]' },
      basicAuth: '[redacted]',
      apiKey: null,
      adminToken: '[redacted]',
      allowedIps: ['Address: IPv4 54.180.62.221'],
      concurrency: 8,
      digest: { enabled: true },
    });
    expect(text).not.toContain('retryStrategy');
  });
});
