import { IsIn, Matches } from 'class-validator';
import { DEFAULT_QUEUE_PREFIX } from '@app/contracts';
import {
  DEFAULT_REDIS_URL,
  isHashTagged,
  redisSettingsFromEnv,
  RedisSettingsError,
  type RedisSettings,
} from '@app/redis';
import { Check, type Env } from './load-env';

/** A listen address: an IP address or a host name, never a URL. */
export const IsListenAddress = () =>
  Matches(/^[A-Za-z0-9.:[\]-]+$/, { message: 'must be an IP address or host name' });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** libs/redis reads the Redis group as a whole; each variable reports its own problem. */
function redisProblem(variable: string) {
  return (_value: unknown, env: RelayEnv): string | null => {
    try {
      redisSettingsFromEnv(env as unknown as Env);
      return null;
    } catch (error) {
      if (!(error instanceof RedisSettingsError)) throw error;
      return error.variable === variable ? error.message : null;
    }
  };
}

/** What both apps read: where Redis is, the queue's key prefix, the log level. */
export class RelayEnv {
  @Check(redisProblem('REDIS_URL')) REDIS_URL = DEFAULT_REDIS_URL;
  @Check(redisProblem('REDIS_PASSWORD')) REDIS_PASSWORD?: string;
  @Check(redisProblem('REDIS_SENTINELS')) REDIS_SENTINELS?: string;
  @Check(redisProblem('REDIS_SENTINEL_NAME')) REDIS_SENTINEL_NAME?: string;
  @Check(redisProblem('REDIS_SENTINEL_PASSWORD')) REDIS_SENTINEL_PASSWORD?: string;
  @Check(redisProblem('REDIS_CLUSTER_NODES')) REDIS_CLUSTER_NODES?: string;

  // BullMQ joins its key parts with ":", so a prefix holding one could collide with them.
  @Matches(/^[^:]*$/, { message: 'must not contain ":"' })
  // The limiter's and BullMQ's multi-key scripts need all their keys in one Cluster slot.
  @Check((prefix: string | undefined, env: RelayEnv) =>
    env.REDIS_CLUSTER_NODES && !isHashTagged(prefix ?? '')
      ? 'must contain a {hash tag} with Redis Cluster'
      : null,
  )
  QUEUE_PREFIX = DEFAULT_QUEUE_PREFIX;

  @IsIn(LOG_LEVELS) LOG_LEVEL: LogLevel = 'info';
}

export interface RelaySettings extends RedisSettings {
  queuePrefix: string;
  logLevel: LogLevel;
}

/** The shared part of both apps' configs, from a validated RelayEnv. */
export function relaySettings(env: RelayEnv): RelaySettings {
  return {
    ...redisSettingsFromEnv(env as unknown as Env),
    queuePrefix: env.QUEUE_PREFIX,
    logLevel: env.LOG_LEVEL,
  };
}
