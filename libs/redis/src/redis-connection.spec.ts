import { Cluster } from 'ioredis';
import {
  createRedisClient,
  describeRedis,
  isHashTagged,
  redisSettingsFromEnv,
  RedisSettingsError,
} from './redis-connection';

const failure = (env: Record<string, string>) => {
  try {
    redisSettingsFromEnv(env);
  } catch (error) {
    if (error instanceof RedisSettingsError) return `${error.variable}: ${error.message}`;
    throw error;
  }
  return 'no error';
};

describe('redisSettingsFromEnv', () => {
  it('defaults to one local node', () => {
    expect(redisSettingsFromEnv({})).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      redis: { host: '127.0.0.1', port: 6379, db: 0 },
      redisCluster: null,
    });
  });

  it('reads a Sentinel group with its credentials', () => {
    const settings = redisSettingsFromEnv({
      REDIS_SENTINELS: 'sentinel-1:26379, [::1]:26380',
      REDIS_SENTINEL_NAME: 'relay',
      REDIS_PASSWORD: 'data-secret',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    expect(settings.redis).toMatchObject({
      sentinels: [
        { host: 'sentinel-1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'relay',
      password: 'data-secret',
      sentinelPassword: 'sentinel-secret',
    });
    expect(settings.redisCluster).toBeNull();
    expect(describeRedis(settings)).toBe('sentinel relay via sentinel-1:26379,::1:26380');
  });

  it('reads Cluster seed nodes and keeps no host or database for them', () => {
    const settings = redisSettingsFromEnv({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001',
      REDIS_PASSWORD: 'p',
    });
    expect(settings.redisCluster).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(settings.redis).toEqual(expect.objectContaining({ password: 'p' }));
    expect(settings.redis).not.toHaveProperty('host');
    expect(settings.redis).not.toHaveProperty('db');
    expect(describeRedis(settings)).toBe('cluster 10.0.0.1:7000,10.0.0.2:7001');
  });

  it('names the variable that is wrong', () => {
    expect(failure({ REDIS_URL: 'http://x' })).toMatch(/^REDIS_URL: must start with redis:/);
    expect(failure({ REDIS_SENTINELS: 'a:1' })).toMatch(/^REDIS_SENTINEL_NAME: is required/);
    expect(failure({ REDIS_CLUSTER_NODES: 'a:1,b' })).toBe(
      'REDIS_CLUSTER_NODES: "b" is not host:port',
    );
    expect(failure({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2' })).toMatch(
      /^REDIS_CLUSTER_NODES: cannot be set together/,
    );
  });
});

describe('isHashTagged', () => {
  it.each([
    ['{relay}', true],
    ['{t-x-1}', true],
    ['app{relay}', true],
    ['relay', false],
    ['{}relay', false],
    ['{relay', false],
  ])('%s → %s', (prefix, expected) => expect(isHashTagged(prefix)).toBe(expected));
});

describe('createRedisClient', () => {
  it('creates a Cluster client whose nodes get the per-node options', () => {
    const client = createRedisClient(
      { redis: { password: 'p' }, redisCluster: [{ host: '127.0.0.1', port: 1 }] },
      { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: false },
    );
    expect(client).toBeInstanceOf(Cluster);
    expect((client as Cluster).options).toMatchObject({
      enableOfflineQueue: false,
      redisOptions: { password: 'p', maxRetriesPerRequest: null, lazyConnect: true },
    });
    client.disconnect();
  });
});
