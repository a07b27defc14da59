import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { SendFate } from '../rate-limit/jandi-quota.limiter';
import type { JandiResponse } from './classify-jandi-response';
import type { JandiMessage } from './jandi-message';

export const JANDI_HEADERS = {
  Accept: 'application/vnd.tosslab.jandi-v2+json',
  'Content-Type': 'application/json',
} as const;

/** Enough of JANDI's answer for its code and message. */
const ANSWER_CHARS = 2000;

/** What the quota must assume about a request from what came back. */
export function requestFate(response: JandiResponse): SendFate {
  if (response.kind === 'http') return 'answered';
  if (response.kind === 'expired') return 'not-sent';
  return response.written ? 'unknown' : 'not-sent';
}

/** The only HTTP to JANDI. Never throws: every outcome is a JandiResponse. */
@Injectable()
export class JandiClient implements OnApplicationShutdown {
  private readonly agents = {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true }),
  };

  onApplicationShutdown(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /**
   * Posts within the quota grant's `sendBy` (a performance.now() time): the request is written
   * only on a ready connection and only before it, and the wait for the answer ends at it, so a
   * request never leaves later than the quota counted it in flight for, however long the process
   * was paused or starved between the grant and the write. A process frozen inside the write
   * itself, after the check, sends its bytes only once it runs again: `onLeftLate` hears how late.
   */
  post(
    url: string,
    message: JandiMessage,
    sendBy: number,
    abort?: AbortSignal,
    onLeftLate?: (lateMs: number) => void,
  ): Promise<JandiResponse> {
    const body = JSON.stringify(message);
    const budgetMs = Math.floor(sendBy - performance.now());
    if (budgetMs < 1 || abort?.aborted) return Promise.resolve({ kind: 'expired' });
    const target = new URL(url);
    const tls = target.protocol === 'https:';
    return new Promise((resolve) => {
      let written = false;
      let done = false;
      const request = (tls ? httpsRequest : httpRequest)(target, {
        method: 'POST',
        headers: { ...JANDI_HEADERS, 'Content-Length': Buffer.byteLength(body) },
        agent: tls ? this.agents.https : this.agents.http,
      });
      const finish = (response: JandiResponse) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        // An answered request leaves its connection to the keep-alive pool.
        if (response.kind !== 'http') request.destroy();
        resolve(response);
      };
      const timer = setTimeout(() => finish({ kind: 'timeout', written }), budgetMs);
      const onAbort = () => finish({ kind: 'aborted', written });
      abort?.addEventListener('abort', onAbort);
      // Checked and written in one synchronous step, on a socket that takes the bytes at once.
      const write = () => {
        if (done) return;
        if (performance.now() >= sendBy) return finish({ kind: 'expired' });
        written = true;
        request.end(body);
        const lateMs = performance.now() - sendBy;
        if (lateMs > 0) onLeftLate?.(lateMs);
      };
      request.once('socket', (socket) => {
        if (request.reusedSocket) write();
        else socket.once(tls ? 'secureConnect' : 'connect', write);
      });
      request.once('response', (response: IncomingMessage) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text.length < ANSWER_CHARS) text += chunk;
        });
        response.once('end', () =>
          finish({
            kind: 'http',
            status: response.statusCode ?? 0,
            body: text.slice(0, ANSWER_CHARS),
            retryAfter: [response.headers['retry-after']].flat()[0] ?? null,
          }),
        );
        response.once('error', () => finish({ kind: 'network', message: 'ECONNRESET', written }));
      });
      // Only the error's code: its message can carry the host.
      request.once('error', (error: NodeJS.ErrnoException) =>
        finish({ kind: 'network', message: error.code ?? error.name, written }),
      );
    });
  }
}
