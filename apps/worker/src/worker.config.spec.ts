import { loadWorkerConfig } from './worker.config';

const BASE = { JANDI_WEBHOOK_URL: 'https://wh.jandi.com/connect-api/webhook/1/token' };

describe('loadWorkerConfig: digests', () => {
  it('folds bursts by default: 60 s target, 50 events per digest', () => {
    expect(loadWorkerConfig(BASE).digest).toEqual({
      enabled: true,
      latencyTargetMs: 60_000,
      maxEvents: 50,
    });
  });

  it('reads and validates the DIGEST_* variables', () => {
    expect(
      loadWorkerConfig({
        ...BASE,
        DIGEST_ENABLED: 'false',
        DIGEST_LATENCY_TARGET_MS: '3000',
        DIGEST_MAX_EVENTS: '20',
      }).digest,
    ).toEqual({ enabled: false, latencyTargetMs: 3000, maxEvents: 20 });
    expect(() => loadWorkerConfig({ ...BASE, DIGEST_MAX_EVENTS: '1' })).toThrow(
      'Invalid environment variable DIGEST_MAX_EVENTS',
    );
    expect(() => loadWorkerConfig({ ...BASE, DIGEST_ENABLED: 'yes' })).toThrow(
      'Invalid environment variable DIGEST_ENABLED',
    );
  });
});

describe('loadWorkerConfig: ADMIN_HOST and ADMIN_PORT', () => {
  it('listens on loopback by default and on the address given', () => {
    expect(loadWorkerConfig(BASE)).toMatchObject({ adminHost: '127.0.0.1', adminPort: 9100 });
    expect(loadWorkerConfig({ ...BASE, ADMIN_HOST: '0.0.0.0' }).adminHost).toBe('0.0.0.0');
    expect(loadWorkerConfig({ ...BASE, ADMIN_HOST: ' ' }).adminHost).toBe('127.0.0.1');
  });

  it('still honours the former names METRICS_HOST and METRICS_PORT', () => {
    expect(
      loadWorkerConfig({ ...BASE, METRICS_HOST: '0.0.0.0', METRICS_PORT: '9200' }),
    ).toMatchObject({ adminHost: '0.0.0.0', adminPort: 9200 });
    expect(loadWorkerConfig({ ...BASE, METRICS_PORT: '9200', ADMIN_PORT: '9300' }).adminPort).toBe(
      9300,
    );
  });

  it('refuses a value that is not an address or host name', () => {
    expect(() => loadWorkerConfig({ ...BASE, ADMIN_HOST: 'http://x' })).toThrow(
      'Invalid environment variable ADMIN_HOST',
    );
  });
});
