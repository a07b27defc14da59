import { ConfigError } from '@app/contracts';
import { loadIngestConfig, parseAllowedIps } from './ingest.config';

describe('loadIngestConfig', () => {
  it('has working defaults', () => {
    const config = loadIngestConfig({});
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      redis: { host: '127.0.0.1', port: 6379, db: 0 },
      queuePrefix: '{relay}',
      port: 3000,
      ackFormat: 'text',
      bodyLimitBytes: 262144,
      dedupeWindowMs: 86_400_000,
      basicAuth: null,
      apiKey: null,
      allowedIps: null,
      trustProxy: false,
    });
  });

  it('reads every setting', () => {
    const config = loadIngestConfig({
      REDIS_URL: 'rediss://user:p%40ss@redis.internal:6380/2',
      QUEUE_PREFIX: '{prod}',
      PORT: '8080',
      ACK_FORMAT: 'json',
      BODY_LIMIT_BYTES: '65536',
      DEDUPE_WINDOW_SECONDS: '3600',
      POPBILL_BASIC_AUTH: 'popbill:pa:ss',
      POPBILL_API_KEY: 'k',
      POPBILL_ALLOWED_IPS: '54.180.62.221, 13.124.72.158/32',
      TRUST_PROXY: '1',
    });
    expect(config.redis).toMatchObject({
      host: 'redis.internal',
      port: 6380,
      db: 2,
      username: 'user',
      password: 'p@ss',
      tls: {},
    });
    expect(config).toMatchObject({
      queuePrefix: '{prod}',
      port: 8080,
      ackFormat: 'json',
      bodyLimitBytes: 65536,
      dedupeWindowMs: 3_600_000,
      apiKey: 'k',
      trustProxy: 1,
    });
    expect(config.basicAuth).toEqual({ user: 'popbill', password: 'pa:ss' });
    expect(config.allowedIps!.check('54.180.62.221')).toBe(true);
    expect(config.allowedIps!.check('54.180.62.222')).toBe(false);
  });

  it.each([
    ['REDIS_URL', 'http://localhost'],
    ['REDIS_URL', 'not a url'],
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['ACK_FORMAT', 'xml'],
    ['QUEUE_PREFIX', 'a:b'],
    ['POPBILL_BASIC_AUTH', 'nopassword'],
    ['POPBILL_BASIC_AUTH', ':pw'],
    ['POPBILL_ALLOWED_IPS', '10.0.0.0/33'],
    ['POPBILL_ALLOWED_IPS', 'popbill.com'],
    ['TRUST_PROXY', 'sometimes'],
    ['DEDUPE_WINDOW_SECONDS', '0'],
    ['LOG_LEVEL', 'verbose'],
  ])('names %s when it is %p', (variable, value) => {
    expect(() => loadIngestConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadIngestConfig({ [variable]: value })).toThrow(
      `Invalid environment variable ${variable}`,
    );
  });
});

describe('parseAllowedIps', () => {
  it('matches IPv4 and IPv6 addresses and networks', () => {
    const list = parseAllowedIps('10.1.0.0/16, ::1, 2001:db8::/32');
    expect(list.check('10.1.200.3')).toBe(true);
    expect(list.check('10.2.0.1')).toBe(false);
    expect(list.check('::1', 'ipv6')).toBe(true);
    expect(list.check('2001:db8::5', 'ipv6')).toBe(true);
  });
});
