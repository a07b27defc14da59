import { createHash, randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { RateLimit } from '../config/rate-limits';
import { combinedScript, runScript, runStep, type LuaStep } from '../redis/lua-step';

export interface QuotaLimiterOptions {
  /** Key prefix, normally the queue prefix so one Redis Cluster slot holds everything. */
  prefix: string;
  limits: readonly RateLimit[];
  /** Extra width added to every window (network jitter between us and JANDI). */
  safetyMs: number;
  /** A slot at most this far away is reported as `wait` rather than re-queued. */
  inlineWaitMs: number;
  /** How long after its grant a send may leave and wait for its answer (the HTTP timeout). */
  sendMs: number;
  /** How much longer JANDI may still count a send that got no answer: it counts until then. */
  lateMs: number;
}

/**
 * `granted`: send now (the send is recorded); the request must not leave after `sendBy`, a
 * `performance.now()` time taken before the grant, so it is never later than the grant's own
 * deadline. Otherwise wait until `at` (Redis clock); the slot stays reserved for this member.
 * `waitMs` is `at` minus Redis now.
 */
export type QuotaDecision =
  | {
      granted: true;
      now: number;
      sendId: string;
      sendBy: number;
      /** With a GrantStamp: the stamp key's value before this grant set it, null if none. */
      stampedOver?: string | null;
    }
  | { granted: false; at: number; now: number; waitMs: number };

/**
 * What became of a granted send: `answered` (it reached JANDI before the answer came),
 * `not-sent` (no byte left), or `unknown` (it may still reach JANDI: timeout, crash, cut off).
 */
export type SendFate = 'answered' | 'not-sent' | 'unknown';

/** A key a grant sets to its member in the same step: one round trip less before the send. */
export interface GrantStamp {
  key: string;
  seconds: number;
}

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
-- A send never settled (its worker died) counts as arriving at its deadline.
local moved = false
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)) do
  redis.call('ZADD', KEYS[1], redis.call('ZSCORE', KEYS[4], m), m)
  redis.call('ZREM', KEYS[4], m)
  moved = true
end
-- Every sent entry leaves every window maxw after it: an idle destination's keys expire.
if moved then redis.call('PEXPIRE', KEYS[1], maxw + 1000) end
local flying = redis.call('ZCARD', KEYS[4])
`;

/*
 * KEYS: sent zset (settled sends, scored by when their answer came, Redis ms), held zset
 * (reservations), cooldown key, flight zset (sends without an answer yet, scored by deadline),
 * optionally a stamp key a grant sets to the member.
 * ARGV: member, safetyMs, inlineWaitMs, n, n pairs count, windowMs, then flightMs, priority,
 * nonce (send ids stay unique when one member is granted twice in a millisecond), stamp ttl s.
 * Returns {granted 0/1, at, now, sendId, the stamp's previous value (granted, stamped)}.
 */
const ACQUIRE = `${PRELUDE}
local member = ARGV[1]
local inline = tonumber(ARGV[3])
local cooldown = tonumber(redis.call('GET', KEYS[3]) or '0')

local flightMs = tonumber(ARGV[5 + 2 * n])
-- A priority member (the digest sender) reserves against sends only, ahead of held slots.
local reserveFrom = ARGV[6 + 2 * n] == '1' and {KEYS[1]} or {KEYS[1], KEYS[2]}

-- Earliest time >= now at which a send passes every window against every earlier send.
-- Unanswered sends may arrive at JANDI at any moment, so they count in every window;
-- answered ones arrived before their answer, the time they are scored with.
local function sentFree()
  local at = now
  for i = 1, n do
    if flying >= counts[i] then return now + 5 end
    local k = counts[i] - flying - 1
    local nth = redis.call('ZREVRANGE', KEYS[1], k, k, 'WITHSCORES')
    if nth[2] then at = math.max(at, tonumber(nth[2]) + widths[i]) end
  end
  return at
end

local function send()
  local id = member .. '@' .. now .. '#' .. ARGV[7 + 2 * n]
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZADD', KEYS[4], now + flightMs, id)
  -- An unsettled send counts until its deadline plus a window; the key outlives both.
  redis.call('PEXPIRE', KEYS[4], flightMs + maxw + 1000)
  local stampedOver = false
  if KEYS[5] then stampedOver = redis.call('SET', KEYS[5], member, 'EX', ARGV[8 + 2 * n], 'GET') end
  return {1, now, now, id, stampedOver}
end

local ownRaw = redis.call('ZSCORE', KEYS[2], member)
local own = ownRaw and tonumber(ownRaw)
if own then
  if own > now + inline then return {0, own, now, ''} end
  if cooldown <= now then
    local free = sentFree()
    if free == now then return send() end
    if free - now <= inline then return {0, free, now, ''} end
  end
  redis.call('ZREM', KEYS[2], member)
end

-- Nothing reserved ahead, no answer stamped after now, and the windows allow it: the reservation
-- below would grant now too, so send without scanning every entry.
local latest = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
if not own and cooldown <= now and (not latest or tonumber(latest) <= now)
  and (#reserveFrom == 1 or redis.call('ZCARD', KEYS[2]) == 0) and sentFree() == now then
  return send()
end

-- Reserve: the earliest slot after every entry (sent or held) that keeps each window in bounds.
local entries = {}
for _, key in ipairs(reserveFrom) do
  local top = redis.call('ZREVRANGE', key, 0, maxc - 1, 'WITHSCORES')
  for i = 2, #top, 2 do entries[#entries + 1] = tonumber(top[i]) end
end
for _ = 1, math.min(flying, maxc) do entries[#entries + 1] = now end
table.sort(entries, function(a, b) return a > b end)
local slot = math.max(now, cooldown, entries[1] or now)
for i = 1, n do
  local nth = entries[counts[i]]
  if nth then slot = math.max(slot, nth + widths[i]) end
end
if slot == now and sentFree() == now then return send() end
redis.call('ZADD', KEYS[2], slot, member)
-- A reservation only schedules; it may lapse once its slot and a window have passed.
if redis.call('PTTL', KEYS[2]) < slot - now + maxw then
  redis.call('PEXPIRE', KEYS[2], slot - now + maxw + 1000)
end
return {0, slot, now, ''}
`;

/*
 * KEYS: sent, flight. ARGV: send id, key lifetime ms (the widest window and more).
 * The answer came: the request reached JANDI before now.
 */
const SETTLE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.ceil(tonumber(t[2]) / 1000)
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return now
`;

/*
 * KEYS: sent, flight. ARGV: send id, lateMs, flight key lifetime ms.
 * The request left only now (its process froze between the deadline check and the write): it
 * counts in every window again, until JANDI may last count it, whether or not its deadline had
 * already scored it as sent.
 */
const LEFT_LATE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
end
return now
`;

/* KEYS: flight. ARGV: send id. A granted send that never went out frees its slot. */
const ABANDON = `return redis.call('ZREM', KEYS[1], ARGV[1])`;

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

/* KEYS: sent, flight. ARGV: n, then n pairs count, windowMs. Returns remaining per limit. */
const HEADROOM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local used = redis.call('ZCOUNT', KEYS[1], '(' .. (now - tonumber(ARGV[1 + 2 * i])), '+inf')
    + redis.call('ZCARD', KEYS[2])
  out[i] = tonumber(ARGV[2 * i]) - used
end
return out
`;

/** Redis key stem of one destination's quota: a digest of its URL, never the secret itself. */
export function quotaKey(prefix: string, url: string): string {
  const digest = createHash('sha256').update(url).digest('hex').slice(0, 16);
  return `${prefix}:jandi-quota:${digest}`;
}

/** {granted 0/1, at, now, send id, the stamp's previous value}. */
type AcquireReply = [number, number, number, string, (string | null)?];

type LimiterRedis = Redis & {
  jandiQuotaAcquire(
    sent: string,
    held: string,
    cooldown: string,
    flight: string,
    ...args: (string | number)[]
  ): Promise<AcquireReply>;
  jandiQuotaAcquireStamped(
    sent: string,
    held: string,
    cooldown: string,
    flight: string,
    stamp: string,
    ...args: (string | number)[]
  ): Promise<AcquireReply>;
  jandiQuotaLeftLate(
    sent: string,
    flight: string,
    sendId: string,
    lateMs: number,
    lifetimeMs: number,
  ): Promise<number>;
  jandiQuotaCooldown(cooldown: string, ms: number): Promise<number>;
  jandiQuotaHeadroom(sent: string, flight: string, ...args: (string | number)[]): Promise<number[]>;
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
  /** Key stems by URL: hashing a URL on every call showed in profiles. URLs come from config. */
  private readonly keys = new Map<string, string>();
  /** How long a sent entry can still count in some window, plus a margin: its key's lifetime. */
  private readonly sentLifetimeMs: number;
  /** Nonces are this limiter's random stem and a count: a random draw per grant showed in profiles. */
  private readonly nonceStem = randomBytes(6).toString('hex');
  private nonces = 0;

  constructor(
    redis: Redis,
    private readonly options: QuotaLimiterOptions,
  ) {
    this.redis = redis as LimiterRedis;
    this.limitArgs = [
      options.limits.length,
      ...options.limits.flatMap((l) => [l.count, l.windowMs]),
    ];
    this.sentLifetimeMs =
      Math.max(...options.limits.map((l) => l.windowMs)) + options.safetyMs + 1000;
    if (!('jandiQuotaAcquire' in redis)) {
      redis.defineCommand('jandiQuotaAcquire', { numberOfKeys: 4, lua: ACQUIRE });
      redis.defineCommand('jandiQuotaAcquireStamped', { numberOfKeys: 5, lua: ACQUIRE });
      redis.defineCommand('jandiQuotaLeftLate', { numberOfKeys: 2, lua: LEFT_LATE });
      redis.defineCommand('jandiQuotaCooldown', { numberOfKeys: 1, lua: COOLDOWN });
      redis.defineCommand('jandiQuotaHeadroom', { numberOfKeys: 2, lua: HEADROOM });
    }
  }

  get limits(): readonly RateLimit[] {
    return this.options.limits;
  }

  /** Quota is per webhook URL. */
  keyOf(url: string): string {
    let key = this.keys.get(url);
    if (key === undefined) {
      key = quotaKey(this.options.prefix, url);
      this.keys.set(url, key);
    }
    return key;
  }

  /**
   * Send now, or learn when this member's reserved slot comes. `member` is the job id.
   * A `priority` member reserves the earliest slot the sends allow, ahead of held reservations
   * (whose holders re-reserve when their slot finds no room); the windows stay exact either way.
   * A grant sets `stamp` to the member, in the same step, and tells what it held before.
   */
  async acquire(
    url: string,
    member: string,
    priority = false,
    stamp?: GrantStamp,
  ): Promise<QuotaDecision> {
    const asked = performance.now();
    const { keys, args } = this.acquireCall(url, member, priority);
    const reply = stamp
      ? await this.redis.jandiQuotaAcquireStamped(...keys, stamp.key, ...args, stamp.seconds)
      : await this.redis.jandiQuotaAcquire(...keys, ...args);
    return this.decision(reply, asked, stamp !== undefined);
  }

  /**
   * `gate` first, in the same script: an acquire (stamped, not priority) follows only when the
   * gate's reply starts with 1. Returns the gate's reply, and the decision when there was one.
   */
  async acquireAfter(
    gate: LuaStep,
    url: string,
    member: string,
    stamp: GrantStamp,
  ): Promise<{ gate: unknown[]; decision: QuotaDecision | null }> {
    const asked = performance.now();
    const { keys, args } = this.acquireCall(url, member, false);
    const [gateReply, acquired] = (await runScript(
      this.redis,
      `jandiQuotaAcquireAfter_${gate.name}`,
      () =>
        combinedScript(
          { lua: ACQUIRE, keys: 5, args: '8 + 2 * tonumber(ARGV[4])' },
          gate.lua,
          'before',
        ),
      [...keys, stamp.key, ...gate.keys],
      [...args, stamp.seconds, ...gate.args],
    )) as [unknown[], AcquireReply?];
    return { gate: gateReply, decision: acquired ? this.decision(acquired, asked, true) : null };
  }

  private acquireCall(url: string, member: string, priority: boolean) {
    const key = this.keyOf(url);
    return {
      keys: [`${key}:sent`, `${key}:held`, `${key}:cooldown`, `${key}:flight`] as const,
      args: [
        member,
        this.options.safetyMs,
        this.options.inlineWaitMs,
        ...this.limitArgs,
        this.options.sendMs + this.options.lateMs,
        priority ? 1 : 0,
        `${this.nonceStem}-${++this.nonces}`,
      ],
    };
  }

  private decision(reply: AcquireReply, asked: number, stamped: boolean): QuotaDecision {
    const [granted, at, now, sendId, stampedOver] = reply;
    if (granted !== 1) return { granted: false, at, now, waitMs: at - now };
    const grant = { granted: true as const, now, sendId, sendBy: asked + this.options.sendMs };
    return stamped ? { ...grant, stampedOver: stampedOver ?? null } : grant;
  }

  /**
   * Call after every granted send. Only an answer proves when the request reached JANDI; a send
   * whose fate is unknown keeps counting in every window until its flight deadline.
   */
  async finish(url: string, sendId: string, fate: SendFate, then?: LuaStep): Promise<void> {
    const key = this.keyOf(url);
    if (fate === 'unknown') {
      if (then) await runStep(this.redis, then);
      return;
    }
    const [name, lua, keys, args] =
      fate === 'answered'
        ? ['Settle', SETTLE, [`${key}:sent`, `${key}:flight`], [sendId, this.sentLifetimeMs]]
        : ['Abandon', ABANDON, [`${key}:flight`], [sendId]];
    const base = { lua, keys: keys.length, args: String(args.length) };
    await runScript(
      this.redis,
      `jandiQuota${name}${then ? `Then_${then.name}` : ''}`,
      () => (then ? combinedScript(base, then.lua, 'after') : lua),
      [...keys, ...(then?.keys ?? [])],
      [...args, ...(then?.args ?? [])],
    );
  }

  /** Records that a granted send got its answer. */
  async settle(url: string, sendId: string): Promise<void> {
    await this.finish(url, sendId, 'answered');
  }

  /**
   * A request written after its `sendBy` (the process froze inside the write): it counts in every
   * window from now until JANDI may last count it, as a fresh unanswered send would.
   */
  async leftLate(url: string, sendId: string): Promise<void> {
    const key = this.keyOf(url);
    await this.redis.jandiQuotaLeftLate(
      `${key}:sent`,
      `${key}:flight`,
      sendId,
      this.options.lateMs,
      this.options.lateMs + this.sentLifetimeMs,
    );
  }

  /** A granted send that will not be made after all (nothing to send): its slot is free again. */
  async abandon(url: string, sendId: string): Promise<void> {
    await this.finish(url, sendId, 'not-sent');
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
      `${this.keyOf(url)}:flight`,
      this.options.limits.length,
      ...this.options.limits.flatMap((l) => [l.count, l.windowMs + this.options.safetyMs]),
    );
    return this.options.limits.map((limit, i) => ({ limit, remaining: remaining[i] }));
  }
}
