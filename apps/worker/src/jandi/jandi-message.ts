export interface JandiConnectInfo {
  title: string;
  description: string;
}

/** The body of one JANDI incoming-webhook request. */
export interface JandiMessage {
  body: string;
  connectColor: string;
  connectInfo: JandiConnectInfo[];
}

/** JANDI shows only the first 5000 characters of a message. */
export const MAX_BODY_CHARS = 5000;
/** JANDI rejects requests over 256 KB; keep clear of it. */
export const MAX_REQUEST_BYTES = 250 * 1024;
export const TRUNCATION_MARKER = '… (이하 생략)';

export function clip(text: string, max: number): string {
  return text.length <= max
    ? text
    : text.slice(0, max - TRUNCATION_MARKER.length) + TRUNCATION_MARKER;
}
