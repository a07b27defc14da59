import { createHash, randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { enqueuedAtOf, FAILURE_RANK_END } from './digest-policy';
import type { LuaStep } from '../redis/lua-step';

/** Value of a delivered marker written for the events of an accepted digest. */
export const DIGEST_MARK_PREFIX = 'digest:';
export const DELIVERED_MARK_SECONDS = 7 * 24 * 3600;

/** Per-event markers, shared by the one-per-event path and the digest path. */
export function eventMarkKey(
  prefix: string,
  kind: 'delivered' | 'sending' | 'solo',
  id: string,
): string {
  return `${prefix}:jandi-${kind}:${id}`;
}

/** Names a URL in Redis keys and sets: a digest of the webhook URL, never the secret itself. */
export function urlHash(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

/** The set of URLs whose pool holds events or batches in flight: what digest senders serve. */
export function activePoolsKey(prefix: string): string {
  return `${prefix}:jandi-digest:active`;
}

/** A URL's pool keys. */
export function digestPoolKeys(prefix: string, url: string) {
  const hash = urlHash(url);
  const base = `${prefix}:jandi-digest:${hash}`;
  return {
    hash,
    active: activePoolsKey(prefix),
    pool: `${base}:pool`,
    claimed: `${base}:claimed`,
    scores: `${base}:scores`,
    leases: `${base}:leases`,
    backoff: `${base}:backoff`,
    failures: `${base}:failures`,
  };
}

/** Where a job stands with its destination's digest pool. */
export type PoolState = 'delivered' | 'pooled' | 'claimed' | 'solo' | 'none';

/**
 * Where a job stands before its send, and how many events wait in its destination's pool; when
 * its event is delivered, the delivered marker's value (`mark`). `go`: a grant followed.
 */
export interface Inspection {
  go: boolean;
  state: PoolState;
  poolSize: number;
  mark?: string;
}

/** Reads an inspection step's reply. */
export function readInspection(reply: unknown[]): Inspection {
  const [go, state, poolSize, mark] = reply as [number, PoolState, number, string?];
  return { go: go === 1, state, poolSize: Number(poolSize), ...(mark ? { mark } : {}) };
}

export interface PooledEvent {
  jobId: string;
  score: number;
}

/** Events one sender took out of the pool under a lease, to send as one digest. */
export interface ClaimedBatch {
  batchId: string;
  members: PooledEvent[];
}

/*
 * A step before a grant (LuaStep). SK: pool, claimed, delivered marker, solo marker. SA: job id.
 * {go 0/1, state, pool size, delivered marker}: the grant follows only for an event that is to be
 * sent on its own now (not delivered, pooled or claimed; no pool forming unless it is solo).
 */
const INSPECT = `
local mark = redis.call('GET', SK[3])
if mark then return {0, 'delivered', 0, mark} end
local size = redis.call('ZCARD', SK[1])
if redis.call('ZSCORE', SK[1], SA[1]) then return {0, 'pooled', size} end
if redis.call('HEXISTS', SK[2], SA[1]) == 1 then return {0, 'claimed', size} end
if redis.call('EXISTS', SK[4]) == 1 then return {1, 'solo', size} end
return {size > 0 and 0 or 1, 'none', size}
`;

/* The same step with digests off: SK: delivered marker; only the marker stops a grant. */
const CHECK_MARK = `
local mark = redis.call('GET', SK[1])
if mark then return {0, 'delivered', 0, mark} end
return {1, 'none', 0}
`;

/*
 * KEYS: pool, delivered marker, active set. ARGV: job id, score, URL hash.
 * Returns 0 when already delivered.
 */
const JOIN = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[3])
return 1
`;

/* KEYS: pool, claimed, scores, leases. ARGV: batch id, max, lease ms. Returns id, score pairs. */
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local popped = redis.call('ZPOPMIN', KEYS[1], tonumber(ARGV[2]))
for i = 1, #popped, 2 do
  redis.call('HSET', KEYS[2], popped[i], ARGV[1])
  redis.call('HSET', KEYS[3], popped[i], popped[i + 1])
end
if #popped > 0 then redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[1]) end
return popped
`;

/*
 * KEYS: pool, claimed, scores, leases, then (mode solo) one solo marker per id.
 * ARGV: batch id, end lease 0/1, mode pool|solo, solo ttl s, ids. Members no longer held by
 * this batch (reaped) are left alone. Returns how many were released.
 */
const RELEASE = `
local n = 0
for i = 5, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[2], id) == ARGV[1] then
    local score = redis.call('HGET', KEYS[3], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    if ARGV[3] == 'solo' then
      redis.call('SET', KEYS[i], '1', 'EX', tonumber(ARGV[4]))
    else
      redis.call('ZADD', KEYS[1], 'NX', score, id)
    end
    n = n + 1
  end
end
if ARGV[2] == '1' then redis.call('ZREM', KEYS[4], ARGV[1]) end
return n
`;

/* KEYS: leases. ARGV: batch id, lease ms. 1 while the batch still holds its lease. */
const RENEW = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 1
`;

/*
 * KEYS: pool, claimed, scores, leases, then one delivered marker per id.
 * ARGV: batch id, marker value, marker ttl s, ids. JANDI accepted the digest: every member is
 * delivered, whoever holds it now. Returns how many another batch had taken meanwhile.
 */
const COMMIT = `
local foreign = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  redis.call('SET', KEYS[i + 1], ARGV[2], 'EX', tonumber(ARGV[3]))
  redis.call('ZREM', KEYS[1], id)
  local owner = redis.call('HGET', KEYS[2], id)
  if owner == ARGV[1] then
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
  elseif owner then
    foreign = foreign + 1
  end
end
redis.call('ZREM', KEYS[4], ARGV[1])
return foreign
`;

/*
 * KEYS: pool, claimed, scores, leases, backoff, active set. ARGV: URL hash. Puts the members of
 * batches whose lease ran out (their sender died) back into the pool; leaves the active set once
 * nothing is pooled or in flight. Returns {pool size, backoff ms left, reaped}.
 */
const PREPARE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
local reaped = 0
if #expired > 0 then
  local dead = {}
  for _, b in ipairs(expired) do
    dead[b] = true
    redis.call('ZREM', KEYS[4], b)
  end
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    if dead[all[i + 1]] then
      redis.call('ZADD', KEYS[1], 'NX', redis.call('HGET', KEYS[3], all[i]) or now, all[i])
      redis.call('HDEL', KEYS[2], all[i])
      redis.call('HDEL', KEYS[3], all[i])
      reaped = reaped + 1
    end
  end
end
local size = redis.call('ZCARD', KEYS[1])
if size == 0 and redis.call('ZCARD', KEYS[4]) == 0 then redis.call('SREM', KEYS[6], ARGV[1]) end
return {size, math.max(0, redis.call('PTTL', KEYS[5])), reaped}
`;

/* KEYS: pool. ARGV: rank boundary. Returns {size, oldest score of each rank or '', now}. */
const STATS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local f = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'WITHSCORES', 'LIMIT', 0, 1)
local o = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
return {redis.call('ZCARD', KEYS[1]), f[2] or '', o[2] or '', now}
`;

type PoolRedis = Redis & {
  digestJoin(...args: (string | number)[]): Promise<number>;
  digestClaim(...args: (string | number)[]): Promise<string[]>;
  digestRelease(numKeys: number, ...args: (string | number)[]): Promise<number>;
  digestRenew(...args: (string | number)[]): Promise<number>;
  digestCommit(numKeys: number, ...args: (string | number)[]): Promise<number>;
  digestPrepare(...args: string[]): Promise<[number, number, number]>;
  digestStats(...args: (string | number)[]): Promise<[number, string, string, number]>;
};

/**
 * One digest pool per JANDI webhook URL, shared by every replica through Redis. Events over the
 * latency target wait in the pool (failures first, then oldest); a sender claims a batch under
 * a lease, and either commits it (JANDI accepted: every member gets a delivered marker, which
 * completes its job) or releases it back to the pool. A dead sender's lease runs out and its
 * batch returns to the pool, so every event is shown by exactly one accepted message.
 */
export class DigestPool {
  private readonly redis: PoolRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    this.redis = redis as PoolRedis;
    if (!('digestJoin' in redis)) {
      redis.defineCommand('digestJoin', { numberOfKeys: 3, lua: JOIN });
      redis.defineCommand('digestClaim', { numberOfKeys: 4, lua: CLAIM });
      redis.defineCommand('digestRelease', { lua: RELEASE });
      redis.defineCommand('digestRenew', { numberOfKeys: 1, lua: RENEW });
      redis.defineCommand('digestCommit', { lua: COMMIT });
      redis.defineCommand('digestPrepare', { numberOfKeys: 6, lua: PREPARE });
      redis.defineCommand('digestStats', { numberOfKeys: 1, lua: STATS });
    }
  }

  /** Keys by URL: hashing a URL on every call showed in profiles. URLs come from config. */
  private readonly keysByUrl = new Map<string, ReturnType<typeof digestPoolKeys>>();

  private keys(url: string) {
    let keys = this.keysByUrl.get(url);
    if (keys === undefined) {
      keys = digestPoolKeys(this.prefix, url);
      this.keysByUrl.set(url, keys);
    }
    return keys;
  }

  private mark(kind: 'delivered' | 'solo', id: string): string {
    return eventMarkKey(this.prefix, kind, id);
  }

  /**
   * The step a delivery's grant runs after (JandiQuotaLimiter.acquireAfter; readInspection reads
   * its reply). `pooling` false (digests off): only the delivered marker is looked at.
   */
  inspection(url: string, jobId: string, eventId: string, pooling: boolean): LuaStep {
    const delivered = this.mark('delivered', eventId);
    if (!pooling) return { name: 'checkMark', lua: CHECK_MARK, keys: [delivered], args: [] };
    const k = this.keys(url);
    return {
      name: 'digestInspect',
      lua: INSPECT,
      keys: [k.pool, k.claimed, delivered, this.mark('solo', jobId)],
      args: [jobId],
    };
  }

  /** Adds a job to the pool; false when its event was delivered meanwhile. */
  async join(url: string, jobId: string, eventId: string, score: number): Promise<boolean> {
    const k = this.keys(url);
    return (
      (await this.redis.digestJoin(
        k.pool,
        this.mark('delivered', eventId),
        k.active,
        jobId,
        score,
        k.hash,
      )) === 1
    );
  }

  /** Reaps expired leases; returns the pool size and how long a failure backoff still lasts. */
  async prepare(url: string): Promise<{ poolSize: number; backoffMs: number; reaped: number }> {
    const k = this.keys(url);
    const [poolSize, backoffMs, reaped] = await this.redis.digestPrepare(
      k.pool,
      k.claimed,
      k.scores,
      k.leases,
      k.backoff,
      k.active,
      k.hash,
    );
    return { poolSize: Number(poolSize), backoffMs: Number(backoffMs), reaped: Number(reaped) };
  }

  /** Takes up to `max` events, failures first then oldest, under a lease of `leaseMs`. */
  async claim(url: string, max: number, leaseMs: number): Promise<ClaimedBatch> {
    const k = this.keys(url);
    const batchId = randomUUID();
    const flat = await this.redis.digestClaim(
      k.pool,
      k.claimed,
      k.scores,
      k.leases,
      batchId,
      max,
      leaseMs,
    );
    const members: PooledEvent[] = [];
    for (let i = 0; i < flat.length; i += 2)
      members.push({ jobId: flat[i], score: Number(flat[i + 1]) });
    return { batchId, members };
  }

  /**
   * Gives members of a batch back: to the pool, or `solo` (they go one message each, so a
   * permanent rejection dead-letters only the event that causes it). `endLease` when the
   * batch is finished.
   */
  async release(
    url: string,
    batchId: string,
    jobIds: readonly string[],
    options: { endLease: boolean; mode?: 'pool' | 'solo' },
  ): Promise<number> {
    const k = this.keys(url);
    const mode = options.mode ?? 'pool';
    const soloKeys = mode === 'solo' ? jobIds.map((id) => this.mark('solo', id)) : [];
    const keys = [k.pool, k.claimed, k.scores, k.leases, ...soloKeys];
    return this.redis.digestRelease(
      keys.length,
      ...keys,
      batchId,
      options.endLease ? 1 : 0,
      mode,
      DELIVERED_MARK_SECONDS,
      ...jobIds,
    );
  }

  /** Extends the lease right before sending; false when it ran out and the batch was reaped. */
  async renew(url: string, batchId: string, leaseMs: number): Promise<boolean> {
    return (await this.redis.digestRenew(this.keys(url).leases, batchId, leaseMs)) === 1;
  }

  /**
   * JANDI accepted the digest: marks every member delivered in one step and ends the batch.
   * Returns how many members another batch had claimed meanwhile (possible duplicates).
   */
  async commit(
    url: string,
    batchId: string,
    members: readonly { jobId: string; eventId: string }[],
  ): Promise<number> {
    const k = this.keys(url);
    const keys = [
      k.pool,
      k.claimed,
      k.scores,
      k.leases,
      ...members.map((m) => this.mark('delivered', m.eventId)),
    ];
    const foreign = await this.redis.digestCommit(
      keys.length,
      ...keys,
      batchId,
      `${DIGEST_MARK_PREFIX}${batchId}`,
      DELIVERED_MARK_SECONDS,
      ...members.map((m) => m.jobId),
    );
    await this.redis.del(k.failures);
    return foreign;
  }

  /** A digest failed: no digest for this URL before `delayMs`; returns failures in a row. */
  async backOff(url: string, delayFor: (failures: number) => number): Promise<number> {
    const k = this.keys(url);
    const failures = await this.redis.incr(k.failures);
    await this.redis.set(k.backoff, '1', 'PX', Math.max(1, Math.round(delayFor(failures))));
    return failures;
  }

  /** Hashes (urlHash) of the URLs whose pool holds events or batches in flight. */
  async active(): Promise<string[]> {
    return this.redis.smembers(activePoolsKey(this.prefix));
  }

  /**
   * Marks the URLs whose pool holds anything as active: pools filled before the active set
   * existed, or whose marker was lost, are served again.
   */
  async markActive(urls: readonly string[]): Promise<void> {
    const sizes = await Promise.all(
      urls.map(async (url) => {
        const k = this.keys(url);
        const [pooled, leased] = await Promise.all([
          this.redis.zcard(k.pool),
          this.redis.zcard(k.leases),
        ]);
        return pooled + leased;
      }),
    );
    const busy = urls.filter((_, i) => sizes[i] > 0).map(urlHash);
    if (busy.length > 0) await this.redis.sadd(activePoolsKey(this.prefix), ...busy);
  }

  /** Pool size and the age of its oldest event (0 when empty), on the Redis clock. */
  async stats(url: string): Promise<{ size: number; oldestAgeMs: number }> {
    const [size, failure, other, now] = await this.redis.digestStats(
      this.keys(url).pool,
      FAILURE_RANK_END,
    );
    const times = [failure, other].filter((s) => s !== '').map((s) => enqueuedAtOf(Number(s)));
    return {
      size: Number(size),
      oldestAgeMs: times.length ? Math.max(0, Number(now) - Math.min(...times)) : 0,
    };
  }
}
