import { Logger } from '@nestjs/common';
import { WorkerMetrics } from '../metrics/worker.metrics';
import type { JandiQuotaLimiter, SendFate } from '../rate-limit/jandi-quota.limiter';
import type { JandiResponse } from './classify-jandi-response';
import type { JandiClient } from './jandi.client';
import type { JandiMessage } from './jandi-message';
import type { LuaStep } from '../redis/lua-step';
import { JandiSender, type QuotaGrant, type SendAnswer, type SendVerdict } from './jandi.sender';

const URL = 'https://wh.jandi.com/connect-api/webhook/1/secret';
const MESSAGE: JandiMessage = { body: 'hello', connectColor: '#000000', connectInfo: [] };
const GRANT: QuotaGrant = { granted: true, now: 0, sendId: 'send-1', sendBy: 1e12 };

class FakeClient implements Pick<JandiClient, 'post'> {
  posted: { url: string; sendBy: number }[] = [];
  constructor(
    private readonly response: JandiResponse,
    /** Plays a process frozen inside the write for this long past the deadline. */
    private readonly leftLateMs = 0,
  ) {}
  post(
    url: string,
    _message: JandiMessage,
    sendBy: number,
    _abort?: AbortSignal,
    onLeftLate?: (lateMs: number) => void,
  ): Promise<JandiResponse> {
    this.posted.push({ url, sendBy });
    if (this.leftLateMs > 0) onLeftLate?.(this.leftLateMs);
    return Promise.resolve(this.response);
  }
}

class FakeLimiter implements Pick<JandiQuotaLimiter, 'finish' | 'coolDown' | 'leftLate'> {
  /** Every call, in order. */
  calls: string[] = [];
  finished: { url: string; sendId: string; fate: SendFate; then?: LuaStep }[] = [];
  cooled: { url: string; ms: number }[] = [];
  finish(url: string, sendId: string, fate: SendFate, then?: LuaStep): Promise<void> {
    this.calls.push(`finish ${sendId} ${fate}`);
    this.finished.push({ url, sendId, fate, ...(then ? { then } : {}) });
    return Promise.resolve();
  }
  leftLate(_url: string, sendId: string): Promise<void> {
    this.calls.push(`leftLate ${sendId}`);
    return Promise.resolve();
  }
  coolDown(url: string, ms: number): Promise<number> {
    this.cooled.push({ url, ms });
    return Promise.resolve(ms);
  }
}

const http = (status: number, body = '', retryAfter: string | null = null): JandiResponse => ({
  kind: 'http',
  status,
  body,
  retryAfter,
});

async function sendWith(response: JandiResponse, leftLateMs = 0) {
  const client = new FakeClient(response, leftLateMs);
  const limiter = new FakeLimiter();
  const metrics = new WorkerMetrics();
  const sender = new JandiSender({ cooldownMs: 30_000 }, limiter, client, metrics);
  const alongside: { delivered: boolean; answer: SendAnswer }[] = [];
  const result = await sender.send(URL, MESSAGE, GRANT, {
    destination: 'acme',
    what: 'message',
    log: { eventId: 'e1' },
    abort: new AbortController().signal,
    alongside: (delivered, answer) => {
      alongside.push({ delivered, answer });
      return { name: 'marks', lua: '', keys: [], args: [] };
    },
  });
  const counted = (await metrics.deliveries.get()).values
    .filter((v) => v.value > 0)
    .map((v) => ({ ...v.labels, value: v.value }));
  const timed = (await metrics.deliveryDuration.get()).values.find(
    (v) => v.metricName === 'jandi_delivery_duration_seconds_count',
  );
  return { ...result, client, limiter, counted, timed: timed?.value, alongside };
}

describe('JandiSender.send', () => {
  beforeAll(() => Logger.overrideLogger(false));

  const cases: {
    name: string;
    response: JandiResponse;
    verdict: SendVerdict;
    outcome: string;
    fate: SendFate;
    coolMs?: number;
  }[] = [
    {
      name: '200',
      response: http(200, '{"code":0}'),
      verdict: { kind: 'delivered' },
      outcome: 'delivered',
      fate: 'answered',
    },
    {
      name: '429 with Retry-After',
      response: http(429, '', '7'),
      verdict: { kind: 'cooldown', reason: 'HTTP 429', coolMs: 7000 },
      outcome: 'rate_limited',
      fate: 'answered',
      coolMs: 7000,
    },
    {
      name: '200 carrying code 42900, no Retry-After',
      response: http(200, '{"code":42900,"msg":"too many"}'),
      verdict: { kind: 'cooldown', reason: 'HTTP 200 code 42900 "too many"', coolMs: 30_000 },
      outcome: 'rate_limited',
      fate: 'answered',
      coolMs: 30_000,
    },
    {
      name: '400 code 40000',
      response: http(400, '{"code":40000,"msg":"invalid token"}'),
      verdict: { kind: 'dead', reason: 'HTTP 400 code 40000 "invalid token"' },
      outcome: 'rejected',
      fate: 'answered',
    },
    {
      name: '200 carrying code 40000',
      response: http(200, '{"code":40000,"msg":"invalid token"}'),
      verdict: { kind: 'dead', reason: 'HTTP 200 code 40000 "invalid token"' },
      outcome: 'rejected',
      fate: 'answered',
    },
    {
      name: '404 without a body',
      response: http(404),
      verdict: { kind: 'dead', reason: 'HTTP 404' },
      outcome: 'rejected',
      fate: 'answered',
    },
    {
      name: '408',
      response: http(408),
      verdict: { kind: 'retry', reason: 'HTTP 408' },
      outcome: 'failed',
      fate: 'answered',
    },
    {
      name: '503',
      response: http(503),
      verdict: { kind: 'retry', reason: 'HTTP 503' },
      outcome: 'failed',
      fate: 'answered',
    },
    {
      name: 'a timeout after the request was written',
      response: { kind: 'timeout', written: true },
      verdict: { kind: 'retry', reason: 'timeout' },
      outcome: 'failed',
      fate: 'unknown',
    },
    {
      name: 'a timeout before the request was written',
      response: { kind: 'timeout', written: false },
      verdict: { kind: 'retry', reason: 'timeout' },
      outcome: 'failed',
      fate: 'not-sent',
    },
    {
      name: 'a network error before anything was written',
      response: { kind: 'network', message: 'ECONNREFUSED', written: false },
      verdict: { kind: 'retry', reason: 'network: ECONNREFUSED' },
      outcome: 'failed',
      fate: 'not-sent',
    },
    {
      name: 'an expired grant',
      response: { kind: 'expired' },
      verdict: { kind: 'expired' },
      outcome: 'expired',
      fate: 'not-sent',
    },
    {
      name: 'a shutdown after the request was written',
      response: { kind: 'aborted', written: true },
      verdict: { kind: 'interrupted' },
      outcome: 'interrupted',
      fate: 'unknown',
    },
    {
      name: 'a shutdown before the request was written',
      response: { kind: 'aborted', written: false },
      verdict: { kind: 'interrupted' },
      outcome: 'interrupted',
      fate: 'not-sent',
    },
  ];

  it.each(cases)('$name → $verdict.kind', async (c) => {
    const sent = await sendWith(c.response);
    expect(sent.verdict).toEqual(c.verdict);
    expect(sent.client.posted).toEqual([{ url: URL, sendBy: GRANT.sendBy }]);
    // The caller's step rides in the settle's script, whatever the fate.
    expect(sent.limiter.finished).toEqual([
      {
        url: URL,
        sendId: 'send-1',
        fate: c.fate,
        then: expect.objectContaining({ name: 'marks' }),
      },
    ]);
    expect(sent.limiter.cooled).toEqual(c.coolMs === undefined ? [] : [{ url: URL, ms: c.coolMs }]);
    expect(sent.counted).toEqual([{ destination: 'acme', outcome: c.outcome, value: 1 }]);
    expect(sent.timed).toBe(1);
    expect(sent.alongside).toEqual([
      { delivered: c.verdict.kind === 'delivered', answer: sent.report },
    ]);
    expect(sent.report.destination).toBe('acme');
    expect(sent.report.answer).not.toContain('secret');
  });

  it('recounts a request that left after its deadline before settling it', async () => {
    const sent = await sendWith(http(200, '{"code":0}'), 4000);
    expect(sent.verdict).toEqual({ kind: 'delivered' });
    expect(sent.limiter.calls).toEqual(['leftLate send-1', 'finish send-1 answered']);
  });

  it('recounts nothing for a request that left in time', async () => {
    const sent = await sendWith(http(200, '{"code":0}'));
    expect(sent.limiter.calls).toEqual(['finish send-1 answered']);
  });

  it("reports JANDI's answer in words", async () => {
    const sent = await sendWith(http(400, '{"code":40000,"msg":"invalid token"}'));
    expect(sent.report.answer).toBe('HTTP 400 code 40000 "invalid token"');
    expect(sent.report.durationMs).toBeGreaterThanOrEqual(0);
  });
});
