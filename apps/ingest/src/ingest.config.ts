import { BlockList, isIP } from 'node:net';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import {
  Check,
  IsListenAddress,
  loadEnv,
  problemOf,
  relaySettings,
  RelayEnv,
  type Env,
  type RelaySettings,
} from '@app/runtime';

export type AckFormat = 'text' | 'json';

export interface IngestConfig extends RelaySettings {
  host: string;
  port: number;
  /** Private listener of /metrics, /docs, /admin/queues (and /health). */
  adminHost: string;
  /** 0: any free port (tests). */
  adminPort: number;
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

const ACK_FORMATS: readonly AckFormat[] = ['text', 'json'];

/** "user:password", both parts non-empty. */
function splitBasicAuth(raw: string): { user: string; password: string } {
  const colon = raw.indexOf(':');
  if (colon <= 0 || colon === raw.length - 1) {
    throw new Error('expected user:password with both parts non-empty');
  }
  return { user: raw.slice(0, colon), password: raw.slice(colon + 1) };
}

/** Bull Board needs both credentials; `other` names the one that must come with this one. */
function bullBoardPair(other: 'BULL_BOARD_USER' | 'BULL_BOARD_PASSWORD') {
  return (value: string | undefined, env: IngestEnv) =>
    !value && env[other] ? 'Bull Board needs both BULL_BOARD_USER and BULL_BOARD_PASSWORD' : null;
}

/** The ingest environment: every variable ingest reads, with its default and its rules. */
export class IngestEnv extends RelayEnv {
  @IsString() HOST = '0.0.0.0';
  @IsInt() @Min(1) @Max(65535) PORT = 3000;
  @IsListenAddress()
  ADMIN_HOST = '127.0.0.1';
  @IsInt()
  @Min(0)
  @Max(65535)
  @Check((port: number | undefined, env: IngestEnv) =>
    port === env.PORT ? `${port} is PORT too: the admin port must differ` : null,
  )
  ADMIN_PORT = 9101;

  @IsIn(ACK_FORMATS) ACK_FORMAT: AckFormat = 'text';
  @IsInt() @Min(1024) @Max(16 * 1024 * 1024) BODY_LIMIT_BYTES = 256 * 1024;
  @IsInt() @Min(1) @Max(30 * 24 * 3600) DEDUPE_WINDOW_SECONDS = 24 * 3600;
  @IsInt() @Min(50) @Max(30_000) ENQUEUE_TIMEOUT_MS = 2000;
  @IsInt() @Min(0) @Max(16) REDIS_MIN_REPLICAS_ACK = 0;
  @IsInt() @Min(10) @Max(100) REDIS_MEMORY_LIMIT_PERCENT = 90;
  @IsInt() @Min(0) @Max(600_000) SHUTDOWN_GRACE_MS = 5000;

  @IsInt()
  @Min(500)
  @Max(120_000)
  // Node refuses a headers timeout longer than the whole request's.
  @Check((headers: number | undefined, env: IngestEnv) =>
    typeof headers === 'number' &&
    typeof env.REQUEST_TIMEOUT_MS === 'number' &&
    headers > env.REQUEST_TIMEOUT_MS
      ? `${headers} is longer than REQUEST_TIMEOUT_MS (${env.REQUEST_TIMEOUT_MS})`
      : null,
  )
  HEADERS_TIMEOUT_MS = 5000;
  @IsInt() @Min(1000) @Max(300_000) REQUEST_TIMEOUT_MS = 10_000;
  @IsInt() @Min(1000) @Max(600_000) KEEP_ALIVE_TIMEOUT_MS = 10_000;
  @IsInt() @Min(0) @Max(1_000_000) MAX_REQUESTS_PER_SOCKET = 0;
  @IsInt() @Min(1) @Max(100_000) MAX_CONNECTIONS = 1024;

  @IsOptional()
  @Check((raw: string | undefined) => problemOf(() => splitBasicAuth(raw ?? '')))
  POPBILL_BASIC_AUTH?: string;
  @IsOptional() @IsString() POPBILL_API_KEY?: string;
  @IsOptional()
  @Check((raw: string | undefined) => problemOf(() => parseAllowedIps(raw ?? '')))
  POPBILL_ALLOWED_IPS?: string;
  @Check((raw: string | undefined) => problemOf(() => parseTrustProxy(raw ?? '')))
  TRUST_PROXY = 'false';

  @Check(bullBoardPair('BULL_BOARD_PASSWORD')) BULL_BOARD_USER?: string;
  @Check(bullBoardPair('BULL_BOARD_USER')) BULL_BOARD_PASSWORD?: string;
}

/** Reads and validates the ingest environment once, at boot; the only reader of process.env. */
export function loadIngestConfig(env: Env = process.env): IngestConfig {
  const e = loadEnv(IngestEnv, env);
  return {
    ...relaySettings(e),
    host: e.HOST,
    port: e.PORT,
    adminHost: e.ADMIN_HOST,
    adminPort: e.ADMIN_PORT,
    ackFormat: e.ACK_FORMAT,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    dedupeWindowMs: e.DEDUPE_WINDOW_SECONDS * 1000,
    enqueueTimeoutMs: e.ENQUEUE_TIMEOUT_MS,
    minReplicasAck: e.REDIS_MIN_REPLICAS_ACK,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    memoryLimitPercent: e.REDIS_MEMORY_LIMIT_PERCENT,
    basicAuth: e.POPBILL_BASIC_AUTH ? splitBasicAuth(e.POPBILL_BASIC_AUTH) : null,
    apiKey: e.POPBILL_API_KEY ?? null,
    allowedIps: e.POPBILL_ALLOWED_IPS ? parseAllowedIps(e.POPBILL_ALLOWED_IPS) : null,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    maxRequestsPerSocket: e.MAX_REQUESTS_PER_SOCKET,
    maxConnections: e.MAX_CONNECTIONS,
    bullBoard:
      e.BULL_BOARD_USER && e.BULL_BOARD_PASSWORD
        ? { user: e.BULL_BOARD_USER, password: e.BULL_BOARD_PASSWORD }
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
