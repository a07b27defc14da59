import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { INGEST_CONFIG, IngestConfig } from '../ingest.config';
import { IngestMetrics } from '../metrics/ingest.metrics';

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
 * either one is enough, since Popbill sends only the one its settings name.
 */
@Injectable()
export class PopbillAuthGuard implements CanActivate {
  private readonly logger = new Logger(PopbillAuthGuard.name);
  private readonly expectedBasic: string | null;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly metrics: IngestMetrics,
  ) {
    const basic = config.basicAuth;
    this.expectedBasic = basic
      ? `Basic ${Buffer.from(`${basic.user}:${basic.password}`).toString('base64')}`
      : null;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const { allowedIps, apiKey } = this.config;
    if (allowedIps) {
      const { address, type } = normalizeIp(request.ip);
      if (!allowedIps.check(address, type)) {
        this.metrics.rejected.inc({ reason: 'forbidden_source' });
        this.logger.warn(
          { ip: request.ip },
          'webhook rejected: source address not in POPBILL_ALLOWED_IPS',
        );
        throw new ForbiddenException(`source address ${request.ip} is not allowed`);
      }
    }
    if (!this.expectedBasic && !apiKey) return true;
    const authorization = request.headers.authorization;
    const givenKey = request.headers['x-api-key'];
    const basicOk =
      this.expectedBasic !== null &&
      typeof authorization === 'string' &&
      secretEquals(authorization, this.expectedBasic);
    const keyOk = apiKey !== null && typeof givenKey === 'string' && secretEquals(givenKey, apiKey);
    if (basicOk || keyOk) return true;
    this.metrics.rejected.inc({ reason: 'unauthorized' });
    if (this.expectedBasic) {
      context
        .switchToHttp()
        .getResponse<FastifyReply>()
        .header('WWW-Authenticate', 'Basic realm="popbill-webhooks"');
    }
    this.logger.warn(
      {
        ip: request.ip,
        basicGiven: authorization !== undefined,
        apiKeyGiven: givenKey !== undefined,
      },
      'webhook rejected: missing or wrong credentials',
    );
    throw new UnauthorizedException('missing or wrong credentials (HTTP Basic or X-Api-Key)');
  }
}
