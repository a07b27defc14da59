import { classifyJandiResponse, jandiAnswer, parseRetryAfter } from './classify-jandi-response';

const http = (status: number, body = '', retryAfter: string | null = null) =>
  ({ kind: 'http', status, body, retryAfter }) as const;

describe('classifyJandiResponse', () => {
  it('treats a 2xx without an error code as delivered', () => {
    expect(classifyJandiResponse(http(200))).toEqual({ outcome: 'delivered' });
    expect(classifyJandiResponse(http(204))).toEqual({ outcome: 'delivered' });
    expect(classifyJandiResponse(http(200, '{}'))).toEqual({ outcome: 'delivered' });
  });

  it('classifies a 2xx carrying an error code like the matching status', () => {
    expect(classifyJandiResponse(http(200, '{"code":40000,"msg":"invalid"}'))).toEqual({
      outcome: 'rejected',
      reason: 'HTTP 200 code 40000 "invalid"',
    });
    expect(classifyJandiResponse(http(200, '{"code":42900}', '2'))).toEqual({
      outcome: 'rate-limited',
      retryAfterMs: 2000,
      reason: 'HTTP 200 code 42900',
    });
  });

  it('treats 429 and code 42900 as rate limited, honouring Retry-After', () => {
    expect(classifyJandiResponse(http(429, '{"code":42900}', '3'))).toEqual({
      outcome: 'rate-limited',
      retryAfterMs: 3000,
      reason: 'HTTP 429 code 42900',
    });
    expect(classifyJandiResponse(http(400, '{"code":42900}'))).toMatchObject({
      outcome: 'rate-limited',
      retryAfterMs: null,
    });
  });

  it('treats code 40000 and other 4xx as permanent rejections', () => {
    expect(classifyJandiResponse(http(400, '{"code":40000,"msg":"invalid"}'))).toEqual({
      outcome: 'rejected',
      reason: 'HTTP 400 code 40000 "invalid"',
    });
    expect(classifyJandiResponse(http(413, 'too large'))).toEqual({
      outcome: 'rejected',
      reason: 'HTTP 413',
    });
    expect(classifyJandiResponse(http(404))).toMatchObject({ outcome: 'rejected' });
  });

  it('retries 5xx, 408, timeouts and connection errors', () => {
    expect(classifyJandiResponse(http(503, '<html>'))).toEqual({
      outcome: 'failed',
      reason: 'HTTP 503',
    });
    expect(classifyJandiResponse(http(408))).toMatchObject({ outcome: 'failed' });
    expect(classifyJandiResponse({ kind: 'timeout', written: true })).toEqual({
      outcome: 'failed',
      reason: 'timeout',
    });
    expect(
      classifyJandiResponse({ kind: 'network', message: 'ECONNREFUSED', written: false }),
    ).toEqual({
      outcome: 'failed',
      reason: 'network: ECONNREFUSED',
    });
  });
});

describe('jandiAnswer', () => {
  it("reads JANDI's code and message, cleaned and clipped", () => {
    expect(jandiAnswer('{"code":40000,"msg":"invalid webhook token"}')).toEqual({
      code: 40000,
      message: 'invalid webhook token',
    });
    expect(jandiAnswer('{"code":"42900","message":"Too many"}')).toEqual({
      code: 42900,
      message: 'Too many',
    });
    expect(jandiAnswer('{"msg":"a\\u0000b\\n\\u202ec"}')).toEqual({ code: null, message: 'a b c' });
    expect(jandiAnswer(JSON.stringify({ msg: 'x'.repeat(5000) })).message).toHaveLength(200);
  });

  it('gives nothing for bodies that are not JANDI JSON', () => {
    expect(jandiAnswer('<html>')).toEqual({ code: null, message: null });
    expect(jandiAnswer('null')).toEqual({ code: null, message: null });
    expect(jandiAnswer('{"msg":{"nested":1}}')).toEqual({ code: null, message: null });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-10T00:00:00Z');
    expect(parseRetryAfter('2.5', now)).toBe(2500);
    expect(parseRetryAfter('Tue, 10 Nov 2026 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
