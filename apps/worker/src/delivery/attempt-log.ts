import { jandiAnswer, type JandiResponse } from '../jandi/classify-jandi-response';

/** What one send to JANDI did, for the job's log in Bull Board. Never holds the URL. */
export interface SendReport {
  /** Destination name, e.g. `default` or `accounting`. */
  destination: string;
  /** JANDI's answer in words: HTTP status, JANDI code and message, or why there was none. */
  answer: string;
  durationMs: number;
  quotaWaitMs: number;
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

/** One line per attempt: `attempt 2 → default: HTTP 503 in 15 ms, quota wait 0 ms → retry at …`. */
export function attemptLine(attempt: number, sent: SendReport, decision: string): string {
  const ms = (value: number) => `${Math.round(value)} ms`;
  return (
    `attempt ${attempt} → ${sent.destination}: ${sent.answer} in ${ms(sent.durationMs)}, ` +
    `quota wait ${ms(sent.quotaWaitMs)} → ${decision}`
  );
}
