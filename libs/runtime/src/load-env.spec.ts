import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { ConfigError } from './config-error';
import { Check, envVariables, loadEnv } from './load-env';
import { RelayEnv, relaySettings } from './relay-env';

class SampleEnv extends RelayEnv {
  @IsInt() @Min(1) @Max(10) COUNT = 3;
  @IsOptional() @IsString() NAME?: string;
  @Check((value: string | undefined) => (value === undefined ? 'is required' : null))
  API_TOKEN!: string;
}

const problems = (env: Record<string, string>) => {
  try {
    loadEnv(SampleEnv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
};

describe('loadEnv', () => {
  it('keeps the defaults of unset or empty variables and reads the others, trimmed', () => {
    const env = loadEnv(SampleEnv, { API_TOKEN: 't', COUNT: ' 7 ', NAME: '', QUEUE_PREFIX: ' ' });
    expect(env).toMatchObject({ COUNT: 7, API_TOKEN: 't', QUEUE_PREFIX: '{relay}' });
    expect(env.NAME).toBeUndefined();
    expect(env).toBeInstanceOf(SampleEnv);
  });

  it('names every bad variable, one line each, with the value unless it may be a secret', () => {
    const lines = problems({ COUNT: '11', LOG_LEVEL: 'verbose', REDIS_URL: 'http://u:hunter2@x' });
    expect(lines.sort()).toEqual([
      'Invalid environment variable API_TOKEN: is required',
      'Invalid environment variable COUNT: must not be greater than 10 (got "11")',
      'Invalid environment variable LOG_LEVEL: must be one of the following values: fatal, error, warn, info, debug, trace, silent (got "verbose")',
      'Invalid environment variable REDIS_URL: must start with redis:// or rediss:// (got http://)',
    ]);
    expect(lines.join('\n')).not.toContain('hunter2');
  });

  it('reads only decimal numbers', () => {
    for (const count of ['0x5', '5e0', 'five', '5.5', '5.0'])
      expect(problems({ API_TOKEN: 't', COUNT: count })).toEqual([
        `Invalid environment variable COUNT: must be an integer number (got "${count}")`,
      ]);
  });

  it('lists the variables a class declares, its base classes included', () => {
    expect(envVariables(SampleEnv).sort()).toEqual(
      [
        ...['REDIS_URL', 'REDIS_PASSWORD', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME'],
        ...['REDIS_SENTINEL_PASSWORD', 'REDIS_CLUSTER_NODES', 'QUEUE_PREFIX', 'LOG_LEVEL'],
        ...['COUNT', 'NAME', 'API_TOKEN'],
      ].sort(),
    );
  });
});

describe('RelayEnv', () => {
  const load = (env: Record<string, string>) => relaySettings(loadEnv(RelayEnv, env));

  it('defaults to one local Redis, the {relay} prefix and info logs', () => {
    expect(load({})).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      redisCluster: null,
      queuePrefix: '{relay}',
      logLevel: 'info',
    });
  });

  it('refuses ":" in QUEUE_PREFIX, and a prefix without a hash tag on Cluster', () => {
    expect(() => load({ QUEUE_PREFIX: 'a:b' })).toThrow(
      'Invalid environment variable QUEUE_PREFIX: must not contain ":"',
    );
    expect(() => load({ REDIS_CLUSTER_NODES: 'a:1', QUEUE_PREFIX: 'relay' })).toThrow(
      /QUEUE_PREFIX: must contain a \{hash tag\} with Redis Cluster/,
    );
    expect(load({ REDIS_CLUSTER_NODES: 'a:1', QUEUE_PREFIX: 'x{relay}' }).queuePrefix).toBe(
      'x{relay}',
    );
  });

  it('names the Redis variable that is wrong', () => {
    expect(() => load({ REDIS_SENTINELS: 'a:1' })).toThrow(
      'Invalid environment variable REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS',
    );
    expect(() => load({ REDIS_CLUSTER_NODES: 'a:1,b' })).toThrow(
      'Invalid environment variable REDIS_CLUSTER_NODES: "b" is not host:port',
    );
  });
});
