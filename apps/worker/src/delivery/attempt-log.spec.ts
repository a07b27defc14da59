import { describeAnswer } from '../jandi/classify-jandi-response';
import { attemptLine } from './attempt-log';

describe('attempt log lines', () => {
  it("put JANDI's status, code and message in words", () => {
    const body = '{"code":40000,"msg":"invalid webhook token"}';
    expect(describeAnswer({ kind: 'http', status: 400, body, retryAfter: null })).toBe(
      'HTTP 400 code 40000 "invalid webhook token"',
    );
    expect(describeAnswer({ kind: 'http', status: 503, body: '<html>', retryAfter: null })).toBe(
      'HTTP 503',
    );
    expect(describeAnswer({ kind: 'timeout', written: true })).toBe(
      'no answer (timeout, request sent)',
    );
    expect(describeAnswer({ kind: 'network', message: 'ECONNREFUSED', written: false })).toBe(
      'network error ECONNREFUSED',
    );
    expect(describeAnswer({ kind: 'expired' })).toMatch(/^not sent: the quota grant expired/);
  });

  it('name the destination, duration, quota wait and decision', () => {
    const sent = {
      destination: 'accounting',
      answer: 'HTTP 200',
      durationMs: 12.4,
      quotaWaitMs: 0.2,
    };
    expect(attemptLine(3, sent, 'delivered')).toBe(
      'attempt 3 → accounting: HTTP 200 in 12 ms, quota wait 0 ms → delivered',
    );
  });
});
