import { ConfigError } from '@app/runtime';
import { configWarnings, loadIngestConfig, parseAllowedIps } from './ingest.config';

describe('loadIngestConfig', () => {
  it('has working defaults', () => {
    const config = loadIngestConfig({});
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      redis: { host: '127.0.0.1', port: 6379, db: 0 },
      queuePrefix: '{relay}',
      port: 3000,
      adminHost: '127.0.0.1',
      adminPort: 9101,
      ackFormat: 'text',
      bodyLimitBytes: 262144,
      dedupeWindowMs: 86_400_000,
      basicAuth: null,
      apiKey: null,
      allowedIps: null,
      trustProxy: false,
      headersTimeoutMs: 5000,
      requestTimeoutMs: 10_000,
      keepAliveTimeoutMs: 10_000,
      maxRequestsPerSocket: 0,
      maxConnections: 1024,
    });
  });

  it("reads TRUST_PROXY as the proxies' addresses and CIDRs", () => {
    expect(loadIngestConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
    ]);
  });

  it('keeps the admin port apart from the public one', () => {
    expect(() => loadIngestConfig({ PORT: '8080', ADMIN_PORT: '8080' })).toThrow(
      'Invalid environment variable ADMIN_PORT',
    );
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() =>
      loadIngestConfig({ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' }),
    ).toThrow('Invalid environment variable HEADERS_TIMEOUT_MS');
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
    ['REQUEST_TIMEOUT_MS', '0'],
    ['KEEP_ALIVE_TIMEOUT_MS', 'forever'],
    ['MAX_CONNECTIONS', '0'],
    ['MAX_REQUESTS_PER_SOCKET', '-1'],
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

describe('configWarnings', () => {
  const auth = { POPBILL_API_KEY: 'k' };

  it('warns when webhooks need no credentials', () => {
    expect(configWarnings(loadIngestConfig({}))).toEqual([
      expect.stringMatching(/without credentials.*POPBILL_BASIC_AUTH or POPBILL_API_KEY/),
    ]);
    expect(configWarnings(loadIngestConfig(auth))).toEqual([]);
    expect(configWarnings(loadIngestConfig({ POPBILL_BASIC_AUTH: 'u:p' }))).toEqual([]);
  });

  it.each(['true', '1', '2'])(
    'warns when TRUST_PROXY=%s meets an allowlist, since X-Forwarded-For can be spoofed',
    (trustProxy) => {
      const config = loadIngestConfig({
        ...auth,
        TRUST_PROXY: trustProxy,
        POPBILL_ALLOWED_IPS: '54.180.62.221',
      });
      expect(configWarnings(config)).toEqual([expect.stringMatching(/^TRUST_PROXY=.*CIDRs/)]);
    },
  );

  it('does not warn for proxies trusted by address, or without an allowlist', () => {
    expect(
      configWarnings(
        loadIngestConfig({
          ...auth,
          TRUST_PROXY: '10.0.0.0/8',
          POPBILL_ALLOWED_IPS: '54.180.62.221',
        }),
      ),
    ).toEqual([]);
    expect(configWarnings(loadIngestConfig({ ...auth, TRUST_PROXY: 'true' }))).toEqual([]);
  });
});
