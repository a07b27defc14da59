import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { INGEST_CONFIG, IngestConfig } from '../ingest.config';
import { IngestMetrics } from '../metrics/ingest.metrics';
import { WebhookRejection } from './webhook-rejection';

/** Equal-length digests, so the comparison time says nothing about the secret. */
export function secretEquals(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** "::ffff:1.2.3.4" is how an IPv4 client appears on a dual-stack socket. */
export function normalizeIp(ip: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const mapped = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return isIPv4(mapped) ? { address: mapped, type: 'ipv4' } : { address: ip, type: 'ipv6' };
}

/**
 * Source allowlist first (403), then credentials (401): with both Basic and an API key set,
 * either one is enough, since Popbill sends only the one its settings name. Runs before the
 * body is read, so a refused caller costs no parsing.
 */
@Injectable()
export class PopbillAuth {
  private readonly expectedBasic: string | null;
  /** False when no credentials and no allowlist are configured: every caller is let in. */
  readonly enabled: boolean;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly metrics: IngestMetrics,
  ) {
    const basic = config.basicAuth;
    this.expectedBasic = basic
      ? `Basic ${Buffer.from(`${basic.user}:${basic.password}`).toString('base64')}`
      : null;
    this.enabled = config.allowedIps !== null || this.expectedBasic !== null || !!config.apiKey;
  }

  /** Answers a refused request itself; resolves true when the request may go on. */
  admit(request: FastifyRequest, reply: FastifyReply): boolean {
    const rejection = this.check(request);
    if (!rejection) return true;
    this.metrics.rejected.inc({ reason: rejection.reason! });
    if (rejection.status === 401 && this.expectedBasic) {
      reply.header('WWW-Authenticate', 'Basic realm="popbill-webhooks"');
    }
    rejection.send(reply);
    return false;
  }

  private check(request: FastifyRequest): WebhookRejection | null {
    const { allowedIps, apiKey } = this.config;
    if (allowedIps) {
      const { address, type } = normalizeIp(request.ip);
      if (!allowedIps.check(address, type)) {
        request.log.warn(
          { ip: request.ip },
          'webhook rejected: source address not in POPBILL_ALLOWED_IPS',
        );
        return new WebhookRejection(
          403,
          'forbidden_source',
          `source address ${request.ip} is not allowed`,
        );
      }
    }
    if (!this.expectedBasic && !apiKey) return null;
    const authorization = request.headers.authorization;
    const givenKey = request.headers['x-api-key'];
    const basicOk =
      this.expectedBasic !== null &&
      typeof authorization === 'string' &&
      secretEquals(authorization, this.expectedBasic);
    const keyOk = apiKey !== null && typeof givenKey === 'string' && secretEquals(givenKey, apiKey);
    if (basicOk || keyOk) return null;
    request.log.warn(
      {
        ip: request.ip,
        basicGiven: authorization !== undefined,
        apiKeyGiven: givenKey !== undefined,
      },
      'webhook rejected: missing or wrong credentials',
    );
    return new WebhookRejection(
      401,
      'unauthorized',
      'missing or wrong credentials (HTTP Basic or X-Api-Key)',
    );
  }
}
