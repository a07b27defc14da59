import type { EventEmitter } from 'node:events';
import { Counter, Gauge, type Registry } from 'prom-client';

/** The log calls RedisWatch makes; Nest's Logger and pino's both fit. */
export interface RedisWatchLogger {
  log(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** One line per client at most this often while its errors repeat. */
export const REDIS_ERROR_LOG_INTERVAL_MS = 10_000;

/** What a Redis error says about Redis: unreachable, full (maxmemory), or anything else. */
export type RedisErrorKind = 'unreachable' | 'full' | 'other';

export function redisErrorKind(error: Error): RedisErrorKind {
  if (error.message.startsWith('OOM ')) return 'full';
  const code = (error as { code?: string }).code ?? '';
  if (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|EAI_AGAIN)$/.test(code) ||
    /Connection is closed|connect ETIMEDOUT|All sentinels are unreachable|Stream isn't writeable|MaxRetriesPerRequest|LOADING|READONLY|MASTERDOWN/.test(
      error.message,
    )
  ) {
    return 'unreachable';
  }
  return 'other';
}

interface ClientState {
  /** Errors since the last line logged for this client. */
  unlogged: number;
  lastLoggedAt: number;
  lastError: string | null;
  downSince: number | null;
}

/**
 * Listens to every Redis client of an app (ioredis clients, BullMQ queues and workers): their
 * errors are logged through the app's logger, one line per client per interval with a count of
 * the ones in between, and counted; reconnections are logged with how long Redis was away.
 * Without a listener ioredis prints each error with its stack to stderr, about once a second.
 */
export class RedisWatch {
  private readonly clients = new Map<string, ClientState>();
  /** When a write was last refused with OOM; null once one has succeeded since. */
  private fullSince: number | null = null;

  constructor(
    private readonly logger: RedisWatchLogger,
    /** Called on every error, for a counter. */
    private readonly onError: (client: string, kind: RedisErrorKind) => void = () => undefined,
    private readonly intervalMs = REDIS_ERROR_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Watches one client; `name` labels its log lines and metrics. */
  watch(name: string, emitter: EventEmitter): void {
    const state = this.state(name);
    emitter.on('error', (error: Error) => this.recordError(name, error));
    emitter.on('ready', () => {
      if (state.downSince === null) return;
      this.logger.log(
        { redisClient: name, downForMs: this.now() - state.downSince },
        'Redis reachable again',
      );
      state.downSince = null;
      state.unlogged = 0;
    });
  }

  /** A write refused with OOM (noeviction at maxmemory), or a write that went through. */
  noteWrite(error: Error | null): void {
    if (error === null) {
      if (this.fullSince !== null) {
        this.logger.log({ fullForMs: this.now() - this.fullSince }, 'Redis accepts writes again');
      }
      this.fullSince = null;
      return;
    }
    if (redisErrorKind(error) !== 'full') return;
    if (this.fullSince === null) {
      this.fullSince = this.now();
      this.logger.warn(
        { err: error.message },
        'Redis is full (maxmemory with noeviction): writes are refused until memory is freed',
      );
    }
  }

  /** True while the last write was refused because Redis is full. */
  get full(): boolean {
    return this.fullSince !== null;
  }

  /** Names of clients whose last event was a connection error, with that error. */
  unreachable(): Record<string, string> {
    const down: Record<string, string> = {};
    for (const [name, state] of this.clients) {
      if (state.downSince !== null) down[name] = state.lastError ?? 'unreachable';
    }
    return down;
  }

  private state(name: string): ClientState {
    let state = this.clients.get(name);
    if (!state) {
      state = { unlogged: 0, lastLoggedAt: 0, lastError: null, downSince: null };
      this.clients.set(name, state);
    }
    return state;
  }

  private recordError(name: string, error: Error): void {
    const state = this.state(name);
    const kind = redisErrorKind(error);
    this.onError(name, kind);
    state.lastError = error.message;
    if (kind === 'full') this.noteWrite(error);
    if (kind === 'unreachable' && state.downSince === null) state.downSince = this.now();
    const now = this.now();
    if (now - state.lastLoggedAt < this.intervalMs) {
      state.unlogged++;
      return;
    }
    this.logger.warn(
      { redisClient: name, kind, err: error.message, repeated: state.unlogged },
      kind === 'unreachable' ? 'Redis unreachable' : 'Redis client error',
    );
    state.lastLoggedAt = now;
    state.unlogged = 0;
  }
}

/** The Redis health series both apps export, on the app's own registry. */
export function redisHealthMetrics(registry: Registry, app: 'ingest' | 'worker') {
  return {
    up: new Gauge({
      name: 'relay_redis_up',
      help: `1 while the ${app}'s Redis client is connected and ready, 0 while Redis is unreachable`,
      registers: [registry],
    }),
    full: new Gauge({
      name: 'relay_redis_full',
      help: '1 while Redis refuses writes for lack of memory (maxmemory with noeviction)',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'relay_redis_errors_total',
      help: 'Errors of Redis clients, by client and kind (unreachable, full, other)',
      labelNames: ['client', 'kind'] as const,
      registers: [registry],
    }),
  };
}
