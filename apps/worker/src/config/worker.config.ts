import { readFileSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';
import { ConfigError, DEFAULT_QUEUE_PREFIX } from '@app/contracts';
import {
  createRedisClient,
  isHashTagged,
  redisSettingsFromEnv,
  RedisSettingsError,
  type RedisClusterNode,
  type RedisSettings,
} from '@app/redis';
import type { RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import { parseRateLimits, type RateLimit } from './rate-limits';
import { DEFAULT_DESTINATION, parseRoutesText, type Route } from './routes-file';

/** How the digest pools events under a backlog. */
export interface DigestSettings {
  enabled: boolean;
  /** Longest an event should wait for its own message before it is folded into a digest. */
  latencyTargetMs: number;
  /** Most events one digest carries (the 5000-character display limit may cap it lower). */
  maxEvents: number;
}

export const WORKER_CONFIG = Symbol('WORKER_CONFIG');

export interface WorkerConfig {
  redisUrl: string;
  redis: RedisOptions;
  redisCluster: RedisClusterNode[] | null;
  queuePrefix: string;
  logLevel: string;
  /** Listen address of the worker's only port: /metrics, /health and /admin. */
  adminHost: string;
  adminPort: number;
  concurrency: number;
  shutdownGraceMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** Destination name → JANDI webhook URL (a secret: never log it). */
  destinations: Record<string, string>;
  routes: Route[];
  rateLimits: RateLimit[];
  /** Added to every window in case JANDI counts coarser than our exact windows. */
  rateSafetyMs: number;
  /** A slot this close is awaited in-process instead of re-queuing the job. */
  inlineWaitMs: number;
  cooldownMs: number;
  requestTimeoutMs: number;
  backoffCeilingMs: number;
  backoffJitter: number;
  adminToken: string | null;
  /** Folding many events into one message when a destination's backlog outgrows its quota. */
  digest: DigestSettings;
  /** Notices to JANDI_WEBHOOK_URL_OPS (the destination "ops"). */
  ops: { alertAfterMs: number; noticeIntervalMs: number };
  /** Dead letters older than this, or past this many (oldest first), are removed. */
  deadLetters: { retentionDays: number; max: number };
}

const URL_PATTERN = /^https?:\/\/\S+$/;

/** Raw environment as the worker reads it; defaults are applied after validation. */
class WorkerEnv {
  @IsOptional() @IsString() REDIS_URL?: string;
  @IsOptional() @IsString() QUEUE_PREFIX?: string;
  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;
  @IsOptional()
  @Matches(/^[A-Za-z0-9.:[\]-]+$/, { message: 'must be an IP address or host name' })
  ADMIN_HOST?: string;
  @IsOptional() @IsInt() @Min(0) @Max(65535) ADMIN_PORT?: number;
  /** Former names of ADMIN_HOST and ADMIN_PORT, still honoured. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9.:[\]-]+$/, { message: 'must be an IP address or host name' })
  METRICS_HOST?: string;
  @IsOptional() @IsInt() @Min(0) @Max(65535) METRICS_PORT?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1000) WORKER_CONCURRENCY?: number;
  @IsOptional() @IsInt() @Min(0) SHUTDOWN_GRACE_MS?: number;
  @IsOptional() @IsInt() @Min(500) WORKER_LOCK_DURATION_MS?: number;
  @IsOptional() @IsInt() @Min(100) WORKER_STALLED_INTERVAL_MS?: number;
  @IsOptional() @IsInt() @Min(0) WORKER_MAX_STALLED_COUNT?: number;
  @IsOptional()
  @Matches(URL_PATTERN, { message: 'must be an http(s) URL' })
  JANDI_WEBHOOK_URL?: string;
  @IsOptional()
  @Matches(URL_PATTERN, { message: 'must be an http(s) URL' })
  JANDI_WEBHOOK_URL_OPS?: string;
  @IsOptional() @IsInt() @Min(0) OPS_ALERT_AFTER_MS?: number;
  @IsOptional() @IsInt() @Min(1000) OPS_NOTICE_INTERVAL_MS?: number;
  @IsOptional() @IsString() JANDI_ROUTES_FILE?: string;
  @IsOptional() @IsString() JANDI_RATE_LIMITS?: string;
  @IsOptional() @IsInt() @Min(0) @Max(60_000) JANDI_RATE_SAFETY_MS?: number;
  @IsOptional() @IsInt() @Min(0) @Max(60_000) JANDI_INLINE_WAIT_MS?: number;
  @IsOptional() @IsInt() @Min(0) JANDI_COOLDOWN_MS?: number;
  @IsOptional() @IsInt() @Min(100) @Max(120_000) JANDI_TIMEOUT_MS?: number;
  @IsOptional() @IsInt() @Min(100) RETRY_BACKOFF_CEILING_MS?: number;
  @IsOptional() @IsNumber() @Min(0) @Max(1) RETRY_BACKOFF_JITTER?: number;
  @IsOptional() @IsString() ADMIN_TOKEN?: string;
  @IsOptional() @IsIn(['true', 'false']) DIGEST_ENABLED?: string;
  @IsOptional() @IsInt() @Min(0) DIGEST_LATENCY_TARGET_MS?: number;
  @IsOptional() @IsInt() @Min(2) @Max(500) DIGEST_MAX_EVENTS?: number;
  @IsOptional() @IsInt() @Min(1) DEAD_LETTER_RETENTION_DAYS?: number;
  @IsOptional() @IsInt() @Min(1) DEAD_LETTER_MAX?: number;
}

const NUMERIC_KEYS = new Set([
  'ADMIN_PORT',
  'METRICS_PORT',
  'WORKER_CONCURRENCY',
  'SHUTDOWN_GRACE_MS',
  'WORKER_LOCK_DURATION_MS',
  'WORKER_STALLED_INTERVAL_MS',
  'WORKER_MAX_STALLED_COUNT',
  'JANDI_RATE_SAFETY_MS',
  'JANDI_INLINE_WAIT_MS',
  'JANDI_COOLDOWN_MS',
  'JANDI_TIMEOUT_MS',
  'RETRY_BACKOFF_CEILING_MS',
  'RETRY_BACKOFF_JITTER',
  'DIGEST_LATENCY_TARGET_MS',
  'DIGEST_MAX_EVENTS',
  'OPS_ALERT_AFTER_MS',
  'OPS_NOTICE_INTERVAL_MS',
  'DEAD_LETTER_RETENTION_DAYS',
  'DEAD_LETTER_MAX',
]);

const ENV_KEYS = [
  ...NUMERIC_KEYS,
  'REDIS_URL',
  'QUEUE_PREFIX',
  'LOG_LEVEL',
  'ADMIN_HOST',
  'METRICS_HOST',
  'JANDI_WEBHOOK_URL',
  'JANDI_WEBHOOK_URL_OPS',
  'JANDI_ROUTES_FILE',
  'JANDI_RATE_LIMITS',
  'ADMIN_TOKEN',
  'DIGEST_ENABLED',
];

const NAMED_URL = /^JANDI_WEBHOOK_URL_([A-Z0-9_]+)$/;

type Env = Record<string, string | undefined>;

/** The part of the config that tools such as the replay CLI need: where the queue lives. */
export function loadQueueConfig(
  env: Env = process.env,
): Pick<WorkerConfig, 'redisUrl' | 'redis' | 'redisCluster' | 'queuePrefix'> {
  let settings: RedisSettings;
  try {
    settings = redisSettingsFromEnv(env);
  } catch (error) {
    if (!(error instanceof RedisSettingsError)) throw error;
    throw new ConfigError(error.variable, error.message);
  }
  const queuePrefix = env.QUEUE_PREFIX?.trim() || DEFAULT_QUEUE_PREFIX;
  // The limiter's and BullMQ's multi-key scripts need all their keys in one Cluster slot.
  if (settings.redisCluster && !isHashTagged(queuePrefix)) {
    throw new ConfigError('QUEUE_PREFIX', 'must contain a {hash tag} with Redis Cluster');
  }
  return { ...settings, queuePrefix };
}

/** Reads and validates the worker's environment; throws a ConfigError naming the variable. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const raw: Record<string, string | number> = {};
  for (const key of ENV_KEYS) {
    const value = env[key]?.trim();
    if (value === undefined || value === '') continue;
    raw[key] = NUMERIC_KEYS.has(key) && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  const dto = plainToInstance(WorkerEnv, raw);
  const errors = validateSync(dto, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const first = errors[0];
    throw new ConfigError(
      first.property,
      `"${String(first.value)}" ${Object.values(first.constraints ?? {}).join('; ')}`,
    );
  }

  const queue = loadQueueConfig(env);

  const destinations: Record<string, string> = {};
  if (dto.JANDI_WEBHOOK_URL) destinations[DEFAULT_DESTINATION] = dto.JANDI_WEBHOOK_URL;
  for (const [key, value] of Object.entries(env)) {
    const match = NAMED_URL.exec(key);
    if (!match || !value?.trim()) continue;
    if (!URL_PATTERN.test(value.trim())) throw new ConfigError(key, 'must be an http(s) URL');
    destinations[match[1].toLowerCase()] = value.trim();
  }
  if (!destinations[DEFAULT_DESTINATION]) {
    throw new ConfigError('JANDI_WEBHOOK_URL', 'is required (the default JANDI destination)');
  }

  let routes: Route[] = [];
  if (dto.JANDI_ROUTES_FILE) {
    const file = dto.JANDI_ROUTES_FILE;
    try {
      const parsed = parseRoutesText(readFileSync(file, 'utf8'));
      routes = parsed.routes;
      for (const [name, url] of Object.entries(parsed.destinations)) {
        if (destinations[name]) {
          throw new Error(
            `destinations.${name} is also set by JANDI_WEBHOOK_URL_${name.toUpperCase()}: keep one`,
          );
        }
        destinations[name] = url;
      }
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code
        ? `cannot be read (${(error as NodeJS.ErrnoException).code})`
        : (error as Error).message;
      throw new ConfigError('JANDI_ROUTES_FILE', `${file}: ${reason}`);
    }
    for (const route of routes) {
      if (!destinations[route.destination]) {
        throw new ConfigError(
          'JANDI_ROUTES_FILE',
          `${file}: destination "${route.destination}" of a route is neither in its "destinations" nor set as JANDI_WEBHOOK_URL_${route.destination.toUpperCase()}`,
        );
      }
    }
  }

  let rateLimits: RateLimit[];
  try {
    rateLimits = parseRateLimits(dto.JANDI_RATE_LIMITS ?? '60/1m,500/10m');
  } catch (error) {
    throw new ConfigError('JANDI_RATE_LIMITS', (error as Error).message);
  }

  return {
    ...queue,
    logLevel: dto.LOG_LEVEL ?? 'info',
    adminHost: dto.ADMIN_HOST ?? dto.METRICS_HOST ?? '127.0.0.1',
    adminPort: dto.ADMIN_PORT ?? dto.METRICS_PORT ?? 9100,
    concurrency: dto.WORKER_CONCURRENCY ?? 8,
    shutdownGraceMs: dto.SHUTDOWN_GRACE_MS ?? 20_000,
    lockDurationMs: dto.WORKER_LOCK_DURATION_MS ?? 30_000,
    stalledIntervalMs: dto.WORKER_STALLED_INTERVAL_MS ?? 30_000,
    maxStalledCount: dto.WORKER_MAX_STALLED_COUNT ?? 5,
    destinations,
    routes,
    rateLimits,
    rateSafetyMs: dto.JANDI_RATE_SAFETY_MS ?? 500,
    inlineWaitMs: dto.JANDI_INLINE_WAIT_MS ?? 250,
    cooldownMs: dto.JANDI_COOLDOWN_MS ?? 30_000,
    requestTimeoutMs: dto.JANDI_TIMEOUT_MS ?? 10_000,
    backoffCeilingMs: dto.RETRY_BACKOFF_CEILING_MS ?? 3_600_000,
    backoffJitter: dto.RETRY_BACKOFF_JITTER ?? 0.25,
    adminToken: dto.ADMIN_TOKEN ?? null,
    digest: {
      enabled: (dto.DIGEST_ENABLED ?? 'true') === 'true',
      latencyTargetMs: dto.DIGEST_LATENCY_TARGET_MS ?? 60_000,
      maxEvents: dto.DIGEST_MAX_EVENTS ?? 200,
    },
    ops: {
      alertAfterMs: dto.OPS_ALERT_AFTER_MS ?? 300_000,
      noticeIntervalMs: dto.OPS_NOTICE_INTERVAL_MS ?? 3_600_000,
    },
    deadLetters: {
      retentionDays: dto.DEAD_LETTER_RETENTION_DAYS ?? 30,
      max: dto.DEAD_LETTER_MAX ?? 10_000,
    },
  };
}

/**
 * The same Redis for BullMQ: options (BullMQ opens and closes its connections), or in Cluster
 * mode one ioredis Cluster the caller shares and must disconnect when done.
 */
export function bullConnection(
  config: Pick<WorkerConfig, 'redis' | 'redisCluster'>,
): ConnectionOptions {
  if (config.redisCluster) return createRedisClient(config, { maxRetriesPerRequest: null });
  const { host, port, username, password, db, tls, sentinels, name, sentinelPassword } =
    config.redis;
  return {
    host,
    port,
    username,
    password,
    db,
    tls,
    sentinels,
    name,
    sentinelPassword,
    maxRetriesPerRequest: null,
  };
}
