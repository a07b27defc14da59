import Redis, { Cluster, type RedisOptions } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * ioredis options for a redis:// or rediss:// URL (user, password and /db are honoured).
 * Throws an Error naming the problem when the URL cannot be used.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`is not a URL (expected redis://host:port/db)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`must start with redis:// or rediss:// (got ${parsed.protocol}//)`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new Error(`has an invalid database number "${parsed.pathname.slice(1)}"`);
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

/** The URL with its password replaced, fit for a log line. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/** One Redis Cluster seed node. */
export interface RedisClusterNode {
  host: string;
  port: number;
}

/** Where Redis is, as both apps' configs hold it. */
export interface RedisSettings {
  redisUrl: string;
  /**
   * ioredis options: one node from REDIS_URL, or a Sentinel group (`sentinels` + `name`);
   * in Cluster mode, the options of every node.
   */
  redis: RedisOptions;
  /** Cluster seed nodes; null unless REDIS_CLUSTER_NODES is set. */
  redisCluster: RedisClusterNode[] | null;
}

/** A Redis setting that cannot be used; `variable` names the environment variable. */
export class RedisSettingsError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(problem);
    this.name = 'RedisSettingsError';
  }
}

type Env = Record<string, string | undefined>;

const value = (env: Env, name: string): string | undefined => env[name]?.trim() || undefined;

/** Parses "host:port, host:port" (IPv6 as [::1]:port). */
export function parseHostPorts(variable: string, raw: string): RedisClusterNode[] {
  const nodes = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(entry);
      const port = match ? Number(match[2]) : 0;
      if (!match || port < 1 || port > 65535) {
        throw new RedisSettingsError(variable, `"${entry}" is not host:port`);
      }
      return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
    });
  if (nodes.length === 0) throw new RedisSettingsError(variable, 'lists no host:port');
  return nodes;
}

/**
 * Reads the Redis settings shared by both apps: REDIS_URL (one node, the default), or
 * REDIS_SENTINELS + REDIS_SENTINEL_NAME (Sentinel), or REDIS_CLUSTER_NODES (Cluster).
 * REDIS_PASSWORD and REDIS_SENTINEL_PASSWORD carry credentials for the last two.
 */
export function redisSettingsFromEnv(env: Env): RedisSettings {
  const redisUrl = value(env, 'REDIS_URL') ?? DEFAULT_REDIS_URL;
  let redis: RedisOptions;
  try {
    redis = redisOptionsFromUrl(redisUrl);
  } catch (error) {
    throw new RedisSettingsError('REDIS_URL', (error as Error).message);
  }
  const password = value(env, 'REDIS_PASSWORD');
  if (password) redis.password = password;

  const sentinels = value(env, 'REDIS_SENTINELS');
  const clusterNodes = value(env, 'REDIS_CLUSTER_NODES');
  if (sentinels && clusterNodes) {
    throw new RedisSettingsError(
      'REDIS_CLUSTER_NODES',
      'cannot be set together with REDIS_SENTINELS',
    );
  }
  if (sentinels) {
    const name = value(env, 'REDIS_SENTINEL_NAME');
    if (!name) {
      throw new RedisSettingsError('REDIS_SENTINEL_NAME', 'is required with REDIS_SENTINELS');
    }
    return {
      redisUrl,
      redis: {
        ...redis,
        sentinels: parseHostPorts('REDIS_SENTINELS', sentinels),
        name,
        sentinelPassword: value(env, 'REDIS_SENTINEL_PASSWORD'),
      },
      redisCluster: null,
    };
  }
  if (clusterNodes) {
    // Cluster nodes have no databases; host and port come from the seed list.
    const { host: _host, port: _port, db: _db, ...nodeOptions } = redis;
    return {
      redisUrl,
      redis: nodeOptions,
      redisCluster: parseHostPorts('REDIS_CLUSTER_NODES', clusterNodes),
    };
  }
  return { redisUrl, redis, redisCluster: null };
}

/** True when every key under the prefix shares one Cluster hash slot: "{…}" with content. */
export function isHashTagged(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open >= 0 && prefix.indexOf('}', open + 1) > open + 1;
}

/**
 * A client for the configured Redis: ioredis `Cluster` in Cluster mode, else `Redis` (one node
 * or Sentinel). `options` are applied to every node; `enableOfflineQueue` and `retryStrategy`
 * become the Cluster's own.
 */
export function createRedisClient(
  settings: Pick<RedisSettings, 'redis' | 'redisCluster'>,
  options: RedisOptions = {},
): Redis | Cluster {
  if (!settings.redisCluster) return new Redis({ ...settings.redis, ...options });
  const { enableOfflineQueue, retryStrategy, ...nodeOptions } = options;
  return new Cluster(settings.redisCluster, {
    enableOfflineQueue: enableOfflineQueue ?? true,
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) } : {}),
    redisOptions: { ...settings.redis, ...nodeOptions },
  });
}

/** Where Redis is, fit for a log line (no credentials). */
export function describeRedis(settings: RedisSettings): string {
  if (settings.redisCluster) {
    return `cluster ${settings.redisCluster.map((n) => `${n.host}:${n.port}`).join(',')}`;
  }
  if (settings.redis.sentinels) {
    const list = settings.redis.sentinels.map((n) => `${n.host}:${n.port}`).join(',');
    return `sentinel ${settings.redis.name} via ${list}`;
  }
  return redactRedisUrl(settings.redisUrl);
}
