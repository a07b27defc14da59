import { Inject, Injectable } from '@nestjs/common';
import { WORKER_CONFIG, type WorkerConfig } from '../worker.config';
import type { JandiResponse } from './classify-jandi-response';
import type { JandiMessage } from './to-jandi-message';

export const JANDI_HEADERS = {
  Accept: 'application/vnd.tosslab.jandi-v2+json',
  'Content-Type': 'application/json',
} as const;

/** The only HTTP to JANDI. Never throws: every outcome is a JandiResponse. */
@Injectable()
export class JandiClient {
  constructor(@Inject(WORKER_CONFIG) private readonly config: WorkerConfig) {}

  async post(url: string, message: JandiMessage, abort?: AbortSignal): Promise<JandiResponse> {
    const timeout = AbortSignal.timeout(this.config.requestTimeoutMs);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: JANDI_HEADERS,
        body: JSON.stringify(message),
        signal: abort ? AbortSignal.any([timeout, abort]) : timeout,
      });
      const body = await response.text();
      return {
        kind: 'http',
        status: response.status,
        body: body.slice(0, 2000),
        retryAfter: response.headers.get('retry-after'),
      };
    } catch (error) {
      const err = error as Error & { cause?: { code?: string; message?: string } };
      if (abort?.aborted) return { kind: 'aborted' };
      if (err.name === 'TimeoutError' || err.name === 'AbortError') return { kind: 'timeout' };
      // fetch's message can carry the URL; keep only the cause's code.
      return { kind: 'network', message: err.cause?.code ?? err.name };
    }
  }
}
