import { readFileSync } from 'node:fs';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { createRedisClient } from '@app/redis';
import {
  Check,
  ConfigError,
  IsListenAddress,
  loadEnv,
  problemOf,
  relaySettings,
  RelayEnv,
  type Env,
  type RelaySettings,
} from '@app/runtime';
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

export interface WorkerConfig extends RelaySettings {
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

const NAMED_URL = /^JANDI_WEBHOOK_URL_([A-Z0-9_]+)$/;
/** The further destinations, read by the name pattern above, as the docs write them. */
export const NAMED_URL_VARIABLES = 'JANDI_WEBHOOK_URL_<NAME>';
const DEFAULT_RATE_LIMITS = '60/1m,500/10m';

/** The worker's environment: every variable it reads, with its default and its rules. */
export class WorkerEnv extends RelayEnv {
  /** Default: METRICS_HOST, else 127.0.0.1. */
  @IsOptional()
  @IsListenAddress()
  ADMIN_HOST?: string;
  /** Default: METRICS_PORT, else 9100. */
  @IsOptional() @IsInt() @Min(0) @Max(65535) ADMIN_PORT?: number;
  /** Former names of ADMIN_HOST and ADMIN_PORT, still honoured. */
  @IsOptional()
  @IsListenAddress()
  METRICS_HOST?: string;
  @IsOptional() @IsInt() @Min(0) @Max(65535) METRICS_PORT?: number;

  @IsInt() @Min(1) @Max(1000) WORKER_CONCURRENCY = 8;
  @IsInt() @Min(0) SHUTDOWN_GRACE_MS = 20_000;
  @IsInt() @Min(500) WORKER_LOCK_DURATION_MS = 30_000;
  @IsInt() @Min(100) WORKER_STALLED_INTERVAL_MS = 30_000;
  @IsInt() @Min(0) WORKER_MAX_STALLED_COUNT = 5;

  @Check((url: string | undefined) =>
    url === undefined
      ? 'is required (the default JANDI destination)'
      : URL_PATTERN.test(url)
        ? null
        : 'must be an http(s) URL',
  )
  JANDI_WEBHOOK_URL!: string;
  @IsOptional()
  @Matches(URL_PATTERN, { message: 'must be an http(s) URL' })
  JANDI_WEBHOOK_URL_OPS?: string;
  @IsOptional() @IsString() JANDI_ROUTES_FILE?: string;
  @Check((raw: string | undefined) => problemOf(() => parseRateLimits(raw ?? '')))
  JANDI_RATE_LIMITS = DEFAULT_RATE_LIMITS;
  @IsInt() @Min(0) @Max(60_000) JANDI_RATE_SAFETY_MS = 500;
  @IsInt() @Min(0) @Max(60_000) JANDI_INLINE_WAIT_MS = 250;
  @IsInt() @Min(0) JANDI_COOLDOWN_MS = 30_000;
  @IsInt() @Min(100) @Max(120_000) JANDI_TIMEOUT_MS = 10_000;
  @IsInt() @Min(100) RETRY_BACKOFF_CEILING_MS = 3_600_000;
  @IsNumber() @Min(0) @Max(1) RETRY_BACKOFF_JITTER = 0.25;

  @IsOptional() @IsString() ADMIN_TOKEN?: string;
  @IsInt() @Min(0) OPS_ALERT_AFTER_MS = 300_000;
  @IsInt() @Min(1000) OPS_NOTICE_INTERVAL_MS = 3_600_000;

  @IsIn(['true', 'false']) DIGEST_ENABLED: 'true' | 'false' = 'true';
  @IsInt() @Min(0) DIGEST_LATENCY_TARGET_MS = 60_000;
  @IsInt() @Min(2) @Max(500) DIGEST_MAX_EVENTS = 200;
  @IsInt() @Min(1) DEAD_LETTER_RETENTION_DAYS = 30;
  @IsInt() @Min(1) DEAD_LETTER_MAX = 10_000;
}

/** The part of the config that tools such as the replay CLI need: where the queue lives. */
export function loadQueueConfig(env: Env = process.env): RelaySettings {
  return relaySettings(loadEnv(RelayEnv, env));
}

/** Reads and validates the worker's environment; throws a ConfigError naming the variable. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const dto = loadEnv(WorkerEnv, env);

  const destinations: Record<string, string> = { [DEFAULT_DESTINATION]: dto.JANDI_WEBHOOK_URL };
  for (const [key, value] of Object.entries(env)) {
    const match = NAMED_URL.exec(key);
    if (!match || !value?.trim()) continue;
    if (!URL_PATTERN.test(value.trim())) throw new ConfigError(key, 'must be an http(s) URL');
    destinations[match[1].toLowerCase()] = value.trim();
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

  return {
    ...relaySettings(dto),
    adminHost: dto.ADMIN_HOST ?? dto.METRICS_HOST ?? '127.0.0.1',
    adminPort: dto.ADMIN_PORT ?? dto.METRICS_PORT ?? 9100,
    concurrency: dto.WORKER_CONCURRENCY,
    shutdownGraceMs: dto.SHUTDOWN_GRACE_MS,
    lockDurationMs: dto.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: dto.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: dto.WORKER_MAX_STALLED_COUNT,
    destinations,
    routes,
    rateLimits: parseRateLimits(dto.JANDI_RATE_LIMITS),
    rateSafetyMs: dto.JANDI_RATE_SAFETY_MS,
    inlineWaitMs: dto.JANDI_INLINE_WAIT_MS,
    cooldownMs: dto.JANDI_COOLDOWN_MS,
    requestTimeoutMs: dto.JANDI_TIMEOUT_MS,
    backoffCeilingMs: dto.RETRY_BACKOFF_CEILING_MS,
    backoffJitter: dto.RETRY_BACKOFF_JITTER,
    adminToken: dto.ADMIN_TOKEN ?? null,
    digest: {
      enabled: dto.DIGEST_ENABLED === 'true',
      latencyTargetMs: dto.DIGEST_LATENCY_TARGET_MS,
      maxEvents: dto.DIGEST_MAX_EVENTS,
    },
    ops: {
      alertAfterMs: dto.OPS_ALERT_AFTER_MS,
      noticeIntervalMs: dto.OPS_NOTICE_INTERVAL_MS,
    },
    deadLetters: {
      retentionDays: dto.DEAD_LETTER_RETENTION_DAYS,
      max: dto.DEAD_LETTER_MAX,
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
