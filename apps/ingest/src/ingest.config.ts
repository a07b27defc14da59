import { BlockList, isIP } from 'node:net';
import { ConfigError, DEFAULT_QUEUE_PREFIX } from '@app/contracts';
import {
  isHashTagged,
  redisSettingsFromEnv,
  RedisSettingsError,
  type RedisClusterNode,
} from '@app/redis';
import type { RedisOptions } from 'ioredis';

export type AckFormat = 'text' | 'json';

export interface IngestConfig {
  redisUrl: string;
  redis: RedisOptions;
  redisCluster: RedisClusterNode[] | null;
  queuePrefix: string;
  host: string;
  port: number;
  /** Private listener of /metrics, /docs, /admin/queues (and /health). */
  adminHost: string;
  /** 0: any free port (tests). */
  adminPort: number;
  logLevel: string;
  ackFormat: AckFormat;
  bodyLimitBytes: number;
  dedupeWindowMs: number;
  enqueueTimeoutMs: number;
  /** Replicas that must confirm a stored event (WAIT) before it is acknowledged; 0: none. */
  minReplicasAck: number;
  /** Share of Redis maxmemory past which webhooks get 503, keeping the rest for the workers. */
  memoryLimitPercent: number;
  /** Time in-flight requests get on SIGTERM; the process exits at most a margin later. */
  shutdownGraceMs: number;
  basicAuth: { user: string; password: string } | null;
  apiKey: string | null;
  /** null: every source address is allowed. */
  allowedIps: BlockList | null;
  /** false, true (every proxy), a hop count, or the proxies' addresses/CIDRs. */
  trustProxy: boolean | number | string[];
  /** Slow-client limits of the HTTP server. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** 0: no limit. */
  maxRequestsPerSocket: number;
  maxConnections: number;
  /** Bull Board at /admin/queues; null (disabled) unless both credentials are set. */
  bullBoard: { user: string; password: string } | null;
}

export const INGEST_CONFIG = Symbol('INGEST_CONFIG');
/** The one ioredis client of ingest, shared by the queue, the dedupe probe and readiness. */
export const INGEST_REDIS = Symbol('INGEST_REDIS');

type Env = Record<string, string | undefined>;

function text(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? fallback : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `"${raw}" is not a whole number`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `${value} is outside ${min}..${max}`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const value = text(env, name, fallback);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `"${value}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Parses "a.b.c.d, x.y.z.w/nn, ::1" into a BlockList of allowed sources. */
export function parseAllowedIps(raw: string): BlockList {
  const list = new BlockList();
  for (const entry of raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [address, prefixText] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`"${entry}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const prefix = Number(prefixText);
    if (!/^\d+$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
      throw new Error(`"${entry}" has an invalid prefix length`);
    }
    list.addSubnet(address, prefix, type);
  }
  return list;
}

function parseTrustProxy(raw: string): boolean | number | string[] {
  if (raw === 'false' || raw === '') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  parseAllowedIps(entries.join(','));
  return entries;
}

/** Reads and validates the ingest environment once, at boot; the only reader of process.env. */
export function loadIngestConfig(env: Env = process.env): IngestConfig {
  let redisSettings;
  try {
    redisSettings = redisSettingsFromEnv(env);
  } catch (error) {
    if (!(error instanceof RedisSettingsError)) throw error;
    throw new ConfigError(error.variable, error.message);
  }

  const queuePrefix = text(env, 'QUEUE_PREFIX', DEFAULT_QUEUE_PREFIX);
  if (queuePrefix.includes(':')) throw new ConfigError('QUEUE_PREFIX', 'must not contain ":"');
  if (redisSettings.redisCluster && !isHashTagged(queuePrefix)) {
    throw new ConfigError('QUEUE_PREFIX', 'must contain a {hash tag} with Redis Cluster');
  }

  const bullBoardUser = env.BULL_BOARD_USER?.trim();
  const bullBoardPassword = env.BULL_BOARD_PASSWORD?.trim();
  if (!bullBoardUser !== !bullBoardPassword) {
    throw new ConfigError(
      bullBoardUser ? 'BULL_BOARD_PASSWORD' : 'BULL_BOARD_USER',
      'Bull Board needs both BULL_BOARD_USER and BULL_BOARD_PASSWORD',
    );
  }

  const basicAuthRaw = env.POPBILL_BASIC_AUTH?.trim();
  let basicAuth: IngestConfig['basicAuth'] = null;
  if (basicAuthRaw) {
    const colon = basicAuthRaw.indexOf(':');
    if (colon <= 0 || colon === basicAuthRaw.length - 1) {
      throw new ConfigError(
        'POPBILL_BASIC_AUTH',
        'expected user:password with both parts non-empty',
      );
    }
    basicAuth = { user: basicAuthRaw.slice(0, colon), password: basicAuthRaw.slice(colon + 1) };
  }

  let allowedIps: BlockList | null = null;
  const allowedRaw = env.POPBILL_ALLOWED_IPS?.trim();
  if (allowedRaw) {
    try {
      allowedIps = parseAllowedIps(allowedRaw);
    } catch (error) {
      throw new ConfigError('POPBILL_ALLOWED_IPS', (error as Error).message);
    }
  }

  let trustProxy: IngestConfig['trustProxy'];
  try {
    trustProxy = parseTrustProxy(text(env, 'TRUST_PROXY', 'false'));
  } catch (error) {
    throw new ConfigError('TRUST_PROXY', (error as Error).message);
  }

  const headersTimeoutMs = integer(env, 'HEADERS_TIMEOUT_MS', 5000, 500, 120_000);
  const requestTimeoutMs = integer(env, 'REQUEST_TIMEOUT_MS', 10_000, 1000, 300_000);
  // Node refuses a headers timeout longer than the whole request's.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      'HEADERS_TIMEOUT_MS',
      `${headersTimeoutMs} is longer than REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  }

  const port = integer(env, 'PORT', 3000, 1, 65535);
  const adminPort = integer(env, 'ADMIN_PORT', 9101, 0, 65535);
  if (adminPort === port) {
    throw new ConfigError('ADMIN_PORT', `${adminPort} is PORT too: the admin port must differ`);
  }

  return {
    ...redisSettings,
    queuePrefix,
    host: text(env, 'HOST', '0.0.0.0'),
    port,
    adminHost: text(env, 'ADMIN_HOST', '127.0.0.1'),
    adminPort,
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', [
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
      'silent',
    ]),
    ackFormat: oneOf<AckFormat>(env, 'ACK_FORMAT', 'text', ['text', 'json']),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 256 * 1024, 1024, 16 * 1024 * 1024),
    dedupeWindowMs: integer(env, 'DEDUPE_WINDOW_SECONDS', 24 * 3600, 1, 30 * 24 * 3600) * 1000,
    enqueueTimeoutMs: integer(env, 'ENQUEUE_TIMEOUT_MS', 2000, 50, 30_000),
    minReplicasAck: integer(env, 'REDIS_MIN_REPLICAS_ACK', 0, 0, 16),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 5000, 0, 600_000),
    memoryLimitPercent: integer(env, 'REDIS_MEMORY_LIMIT_PERCENT', 90, 10, 100),
    basicAuth,
    apiKey: env.POPBILL_API_KEY?.trim() || null,
    allowedIps,
    trustProxy,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 10_000, 1000, 600_000),
    maxRequestsPerSocket: integer(env, 'MAX_REQUESTS_PER_SOCKET', 0, 0, 1_000_000),
    maxConnections: integer(env, 'MAX_CONNECTIONS', 1024, 1, 100_000),
    bullBoard:
      bullBoardUser && bullBoardPassword
        ? { user: bullBoardUser, password: bullBoardPassword }
        : null,
  };
}

/** Settings that work but leave a door open; logged as warnings at startup. */
export function configWarnings(config: IngestConfig): string[] {
  const warnings: string[] = [];
  if (!config.basicAuth && !config.apiKey) {
    warnings.push(
      'webhooks are accepted without credentials: set POPBILL_BASIC_AUTH or POPBILL_API_KEY',
    );
  }
  if (config.allowedIps && (config.trustProxy === true || typeof config.trustProxy === 'number')) {
    warnings.push(
      `TRUST_PROXY=${String(config.trustProxy)} with POPBILL_ALLOWED_IPS: a client that reaches ` +
        'the port directly can claim any address in X-Forwarded-For; set TRUST_PROXY to the ' +
        "proxies' addresses or CIDRs instead",
    );
  }
  return warnings;
}
