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
