import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkerConfig } from './worker.config';

const BASE = { JANDI_WEBHOOK_URL: 'https://wh.jandi.com/connect-api/webhook/1/token' };

describe('loadWorkerConfig: digests', () => {
  it('folds bursts by default: 60 s target, up to 200 events per digest', () => {
    expect(loadWorkerConfig(BASE).digest).toEqual({
      enabled: true,
      latencyTargetMs: 60_000,
      maxEvents: 200,
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

describe('loadWorkerConfig: QUEUE_PREFIX', () => {
  it('refuses ":" as ingest does, and keeps the {relay} default', () => {
    expect(loadWorkerConfig(BASE).queuePrefix).toBe('{relay}');
    expect(() => loadWorkerConfig({ ...BASE, QUEUE_PREFIX: '{relay}:x' })).toThrow(
      'Invalid environment variable QUEUE_PREFIX: must not contain ":"',
    );
  });
});

describe('loadWorkerConfig: JANDI_ROUTES_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'routes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const SECRET = 'https://wh.jandi.com/connect-api/webhook/1/file-secret';

  it('adds the destinations the file defines to those of the environment', () => {
    const config = loadWorkerConfig({
      ...BASE,
      JANDI_WEBHOOK_URL_ACCOUNTING: 'https://wh.jandi.com/connect-api/webhook/1/acc',
      JANDI_ROUTES_FILE: file('ok.json', {
        destinations: { corp_1: SECRET },
        routes: [
          { match: { corpNum: '1012345678' }, destination: 'corp_1' },
          { match: { stateCode: 305 }, destination: 'accounting' },
        ],
      }),
    });
    expect(Object.keys(config.destinations).sort()).toEqual(['accounting', 'corp_1', 'default']);
    expect(config.destinations.corp_1).toBe(SECRET);
    expect(config.routes).toHaveLength(2);
  });

  it('names the file and the problem, never a URL', () => {
    const load =
      (content: unknown, env = {}) =>
      () =>
        loadWorkerConfig({ ...BASE, ...env, JANDI_ROUTES_FILE: file('bad.json', content) });
    expect(load({ routes: [{ match: { corpNum: '1' }, destination: 'nowhere' }] })).toThrow(
      /JANDI_ROUTES_FILE: .*bad\.json: destination "nowhere" of a route is neither in its "destinations" nor set as JANDI_WEBHOOK_URL_NOWHERE/,
    );
    expect(
      load(
        { destinations: { acc: SECRET }, routes: [] },
        { JANDI_WEBHOOK_URL_ACC: 'https://wh.jandi.com/connect-api/webhook/1/acc' },
      ),
    ).toThrow('destinations.acc is also set by JANDI_WEBHOOK_URL_ACC');
    expect(load(`{"destinations": {"a": ${SECRET}}}`)).toThrow(/bad\.json: is not valid JSON/);
    expect(load(`{"destinations": {"a": ${SECRET}}}`)).not.toThrow(/file-secret/);
    expect(() =>
      loadWorkerConfig({ ...BASE, JANDI_ROUTES_FILE: join(dir, 'missing.json') }),
    ).toThrow(/missing\.json: cannot be read \(ENOENT\)/);
  });
});
