/** What one send to JANDI did, for the job's log in Bull Board. Never holds the URL. */
export interface SendReport {
  /** Destination name, e.g. `default` or `accounting`. */
  destination: string;
  /** JANDI's answer in words: HTTP status, JANDI code and message, or why there was none. */
  answer: string;
  durationMs: number;
  quotaWaitMs: number;
}

/** One line per attempt: `attempt 2 → default: HTTP 503 in 15 ms, quota wait 0 ms → retry at …`. */
export function attemptLine(attempt: number, sent: SendReport, decision: string): string {
  const ms = (value: number) => `${Math.round(value)} ms`;
  return (
    `attempt ${attempt} → ${sent.destination}: ${sent.answer} in ${ms(sent.durationMs)}, ` +
    `quota wait ${ms(sent.quotaWaitMs)} → ${decision}`
  );
}
