/**
 * What came back from one POST to JANDI. `written`: the request was handed to the socket, so
 * JANDI may have it even without an answer.
 */
export type JandiResponse =
  | { kind: 'http'; status: number; body: string; retryAfter: string | null }
  | { kind: 'timeout'; written: boolean }
  | { kind: 'network'; message: string; written: boolean }
  /** Our own shutdown cut the request short. */
  | { kind: 'aborted'; written: boolean }
  /** The quota grant ran out before the request could leave (worker paused or starved): not sent. */
  | { kind: 'expired' };

export type JandiVerdict =
  | { outcome: 'delivered' }
  /** Someone else also posts to the webhook: cool down, retry without burning an attempt. */
  | { outcome: 'rate-limited'; retryAfterMs: number | null; reason: string }
  /** Bad token, deleted webhook, malformed or oversized request: no retry can help. */
  | { outcome: 'rejected'; reason: string }
  /** JANDI or the network is unwell: retry with backoff. */
  | { outcome: 'failed'; reason: string };

/** Longest JANDI message kept: enough to read, bounded whatever JANDI sends. */
const MESSAGE_CHARS = 200;

/** JANDI's `code` and `msg` from an answer body, the message on one clean line. */
export function jandiAnswer(body: string): { code: number | null; message: string | null } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { code: null, message: null };
  }
  if (typeof parsed !== 'object' || parsed === null) return { code: null, message: null };
  const { code: rawCode, msg, message } = parsed as Record<string, unknown>;
  const code = Number(rawCode);
  const text = typeof msg === 'string' ? msg : typeof message === 'string' ? message : null;
  const clean = text
    ?.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MESSAGE_CHARS);
  return {
    code: rawCode !== null && rawCode !== '' && Number.isInteger(code) ? code : null,
    message: clean || null,
  };
}

/** JANDI's answer (or the lack of one) in words, e.g. `HTTP 400 code 40000 "invalid token"`. */
export function describeAnswer(response: JandiResponse): string {
  switch (response.kind) {
    case 'http': {
      const { code, message } = jandiAnswer(response.body);
      return `HTTP ${response.status}${code !== null ? ` code ${code}` : ''}${message ? ` "${message}"` : ''}`;
    }
    case 'timeout':
      return `no answer (timeout${response.written ? ', request sent' : ''})`;
    case 'network':
      return `network error ${response.message}`;
    case 'aborted':
      return 'interrupted by shutdown';
    case 'expired':
      return 'not sent: the quota grant expired first (worker paused or overloaded)';
  }
}

/** Retry-After as seconds or an HTTP date, relative to `now`. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Maps a JANDI answer to what the worker does next. Pure. */
export function classifyJandiResponse(
  response: Exclude<JandiResponse, { kind: 'aborted' | 'expired' }>,
  now = Date.now(),
): JandiVerdict {
  if (response.kind === 'timeout') return { outcome: 'failed', reason: 'timeout' };
  if (response.kind === 'network')
    return { outcome: 'failed', reason: `network: ${response.message}` };
  const { status } = response;
  const { code, message } = jandiAnswer(response.body);
  // JANDI's own words stay in the reason, so a dead letter says why without a log search.
  const detail = `HTTP ${status}${code !== null ? ` code ${code}` : ''}${message ? ` "${message}"` : ''}`;
  // JANDI may answer 200 with an error code in the body: that message was not posted.
  const jandiError = code === 40000 || code === 42900;
  if (status >= 200 && status < 300 && !jandiError) return { outcome: 'delivered' };
  if (status === 429 || code === 42900) {
    return {
      outcome: 'rate-limited',
      retryAfterMs: parseRetryAfter(response.retryAfter, now),
      reason: detail,
    };
  }
  if (status === 408) return { outcome: 'failed', reason: detail };
  if (code === 40000 || (status >= 400 && status < 500))
    return { outcome: 'rejected', reason: detail };
  return { outcome: 'failed', reason: detail };
}
