import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { RateLimit } from './quota-math';

export interface QuotaLimiterOptions {
  /** Key prefix, normally the queue prefix so one Redis Cluster slot holds everything. */
  prefix: string;
  limits: readonly RateLimit[];
  /** Extra width added to every window (network jitter between us and JANDI). */
  safetyMs: number;
  /** A slot at most this far away is reported as `wait` rather than re-queued. */
  inlineWaitMs: number;
}

/**
 * `granted`: send now (the send is recorded). Otherwise wait until `at` (Redis clock); the slot
 * stays reserved for this member. `waitMs` is `at` minus Redis now.
 */
export type QuotaDecision =
  { granted: true; now: number } | { granted: false; at: number; now: number; waitMs: number };

export interface QuotaHeadroom {
  limit: RateLimit;
  remaining: number;
}

const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local safety = tonumber(ARGV[2])
local n = tonumber(ARGV[4])
local counts, widths = {}, {}
local maxw, maxc = 0, 0
for i = 1, n do
  counts[i] = tonumber(ARGV[3 + 2 * i])
  widths[i] = tonumber(ARGV[4 + 2 * i]) + safety
  if widths[i] > maxw then maxw = widths[i] end
  if counts[i] > maxc then maxc = counts[i] end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - maxw))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - maxw))
`;

/*
 * KEYS: sent zset (actual sends, scored by Redis ms), held zset (reservations), cooldown key.
 * ARGV: member, safetyMs, inlineWaitMs, n, then n pairs count, windowMs.
 * Returns {granted 0/1, at, now}.
 */
const ACQUIRE = `${PRELUDE}
local member = ARGV[1]
local inline = tonumber(ARGV[3])
local cooldown = tonumber(redis.call('GET', KEYS[3]) or '0')

-- Earliest time >= now at which a send passes every window against actual sends.
local function sentFree()
  local at = now
  for i = 1, n do
    local nth = redis.call('ZREVRANGE', KEYS[1], counts[i] - 1, counts[i] - 1, 'WITHSCORES')
    if nth[2] then at = math.max(at, tonumber(nth[2]) + widths[i]) end
  end
  return at
end

local function send()
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZADD', KEYS[1], now, member .. '@' .. now)
  return {1, now, now}
end

local ownRaw = redis.call('ZSCORE', KEYS[2], member)
local own = ownRaw and tonumber(ownRaw)
if own then
  if own > now + inline then return {0, own, now} end
  if cooldown <= now then
    local free = sentFree()
    if free == now then return send() end
    if free - now <= inline then return {0, free, now} end
  end
  redis.call('ZREM', KEYS[2], member)
end

-- Reserve: the earliest slot after every entry (sent or held) that keeps each window in bounds.
local entries = {}
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  local top = redis.call('ZREVRANGE', key, 0, maxc - 1, 'WITHSCORES')
  for i = 2, #top, 2 do entries[#entries + 1] = tonumber(top[i]) end
end
table.sort(entries, function(a, b) return a > b end)
local slot = math.max(now, cooldown, entries[1] or now)
for i = 1, n do
  local nth = entries[counts[i]]
  if nth then slot = math.max(slot, nth + widths[i]) end
end
if slot == now and sentFree() == now then return send() end
redis.call('ZADD', KEYS[2], slot, member)
return {0, slot, now}
`;

/* KEYS: cooldown key. ARGV: ms. Extends the cooldown, never shortens it. Returns its end. */
const COOLDOWN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= untilMs then return current end
redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000)
return untilMs
`;

/* KEYS: sent zset. ARGV: n, then n pairs count, windowMs. Returns remaining per limit. */
const HEADROOM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local used = redis.call('ZCOUNT', KEYS[1], '(' .. (now - tonumber(ARGV[1 + 2 * i])), '+inf')
  out[i] = tonumber(ARGV[2 * i]) - used
end
return out
`;

type LimiterRedis = Redis & {
  jandiQuotaAcquire(
    sent: string,
    held: string,
    cooldown: string,
    ...args: (string | number)[]
  ): Promise<[number, number, number]>;
  jandiQuotaCooldown(cooldown: string, ms: number): Promise<number>;
  jandiQuotaHeadroom(sent: string, ...args: (string | number)[]): Promise<number[]>;
};

/**
 * JANDI quota per destination, shared by every worker replica through Redis. Each send is
 * checked atomically, on the Redis clock, against every earlier send, so no sliding window of
 * any configured width ever holds more than its count. Jobs that cannot send now reserve the
 * earliest slot that will fit, so a backlog wakes one slot at a time instead of as a herd.
 */
export class JandiQuotaLimiter {
  private readonly redis: LimiterRedis;
  private readonly limitArgs: number[];

  constructor(
    redis: Redis,
    private readonly options: QuotaLimiterOptions,
  ) {
    this.redis = redis as LimiterRedis;
    this.limitArgs = [
      options.limits.length,
      ...options.limits.flatMap((l) => [l.count, l.windowMs]),
    ];
    if (!('jandiQuotaAcquire' in redis)) {
      redis.defineCommand('jandiQuotaAcquire', { numberOfKeys: 3, lua: ACQUIRE });
      redis.defineCommand('jandiQuotaCooldown', { numberOfKeys: 1, lua: COOLDOWN });
      redis.defineCommand('jandiQuotaHeadroom', { numberOfKeys: 1, lua: HEADROOM });
    }
  }

  get limits(): readonly RateLimit[] {
    return this.options.limits;
  }

  /** Quota is per webhook URL; keys carry a digest of it, never the secret itself. */
  keyOf(url: string): string {
    const digest = createHash('sha256').update(url).digest('hex').slice(0, 16);
    return `${this.options.prefix}:jandi-quota:${digest}`;
  }

  /** Send now, or learn when this member's reserved slot comes. `member` is the job id. */
  async acquire(url: string, member: string): Promise<QuotaDecision> {
    const key = this.keyOf(url);
    const [granted, at, now] = await this.redis.jandiQuotaAcquire(
      `${key}:sent`,
      `${key}:held`,
      `${key}:cooldown`,
      member,
      this.options.safetyMs,
      this.options.inlineWaitMs,
      ...this.limitArgs,
    );
    return granted === 1 ? { granted: true, now } : { granted: false, at, now, waitMs: at - now };
  }

  /** JANDI said 429: no reservation for this URL starts before the cooldown ends. */
  async coolDown(url: string, ms: number): Promise<number> {
    return this.redis.jandiQuotaCooldown(
      `${this.keyOf(url)}:cooldown`,
      Math.max(1, Math.round(ms)),
    );
  }

  /** Frees a reservation whose job will not send (dead, removed). */
  async release(url: string, member: string): Promise<void> {
    await this.redis.zrem(`${this.keyOf(url)}:held`, member);
  }

  /** How many more sends each window allows right now. */
  async headroom(url: string): Promise<QuotaHeadroom[]> {
    const remaining = await this.redis.jandiQuotaHeadroom(
      `${this.keyOf(url)}:sent`,
      this.options.limits.length,
      ...this.options.limits.flatMap((l) => [l.count, l.windowMs + this.options.safetyMs]),
    );
    return this.options.limits.map((limit, i) => ({ limit, remaining: remaining[i] }));
  }
}
