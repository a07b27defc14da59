import { Inject, Injectable } from '@nestjs/common';
import type { JsonObject, PopbillEventJob } from '@app/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { INGEST_CONFIG, IngestConfig } from '../ingest.config';
import { IngestMetrics, RejectReason } from '../metrics/ingest.metrics';
import { eventIdFor, MANUAL_EVENT_TYPE, manualEventIdFor } from './event-id';
import { PopbillAuth } from './popbill-auth';
import { PopbillEventProducer, QueueUnavailableError } from './popbill-event.producer';
import { checkPopbillEvent, MAX_BODY_DEPTH, nestsDeeperThan } from './popbill-event.validator';
import { WebhookRejection } from './webhook-rejection';

export const WEBHOOK_PATH = '/webhooks/popbill';

/** Fastify's own body-parser errors, answered before the handler runs. */
const PARSER_REJECTIONS: Record<string, RejectReason> = {
  RELAY_FORBIDDEN_KEY: 'forbidden_key',
  RELAY_INVALID_JSON: 'invalid_json',
  RELAY_UNSUPPORTED_CHARSET: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
};

function parserRejection(error: FastifyError): RejectReason | null {
  if (error.code && PARSER_REJECTIONS[error.code]) return PARSER_REJECTIONS[error.code];
  if (error.statusCode === 413) return 'body_too_large';
  if (error.statusCode === 415) return 'unsupported_media_type';
  if (error.statusCode === 400) return 'invalid_json';
  return null;
}

const headerText = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value[0] : value;

/** Popbill's headers as they arrived; credentials never start with "pb-", so none are kept. */
function popbillHeaders(headers: FastifyRequest['headers']): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (name.startsWith('pb-') && value !== undefined) kept[name] = headerText(value) ?? '';
  }
  return kept;
}

let stampedAt = 0;
let stamp = '';

/** The current time as ISO-8601; formatting costs ~2 µs, so each millisecond is formatted once. */
function isoNow(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
}

/**
 * POST /webhooks/popbill, registered on Fastify directly rather than as a Nest controller: the
 * Nest router, its middleware engine and nestjs-pino's per-request AsyncLocalStorage cost more
 * than everything else this route does (bench:ingest). Nest still builds and wires it.
 */
@Injectable()
export class PopbillWebhookRoute {
  constructor(
    private readonly producer: PopbillEventProducer,
    private readonly metrics: IngestMetrics,
    private readonly auth: PopbillAuth,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
  ) {}

  register(fastify: FastifyInstance): void {
    const { metrics, auth } = this;
    fastify.route({
      method: 'POST',
      url: WEBHOOK_PATH,
      onRequest: (request, reply, done) => {
        metrics.received.inc();
        if (!auth.enabled || auth.admit(request, reply)) done();
      },
      onError: (request, _reply, error, done) => {
        const reason = parserRejection(error);
        if (reason) {
          metrics.rejected.inc({ reason });
          request.log.warn(
            { reason, mid: request.headers['pb-webhook-mid'] },
            `webhook rejected: ${error.message}`,
          );
        }
        done();
      },
      handler: (request, reply) => this.receive(request, reply),
    });
  }

  /** Acknowledges only once the event is stored; every other outcome makes Popbill resend. */
  async receive(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const job = this.toJob(request);
    if (job instanceof WebhookRejection) {
      if (job.reason) this.metrics.rejected.inc({ reason: job.reason });
      return job.send(reply);
    }
    let outcome;
    try {
      outcome = await this.producer.enqueue(job);
    } catch (error) {
      if (!(error instanceof QueueUnavailableError)) throw error;
      this.metrics.unavailable.inc();
      request.log.error(
        { eventId: job.eventId, err: error.message },
        'webhook not stored: answering 503 so Popbill resends',
      );
      return new WebhookRejection(
        503,
        null,
        'the event could not be stored right now; retry later',
      ).send(reply);
    }
    request.log.info(
      {
        eventId: job.eventId,
        webhookType: job.webhookType,
        eventType: job.eventType,
        outcome,
        ...(job.flags.length > 0 && { flags: job.flags }),
      },
      `webhook ${outcome}`,
    );
    if (this.config.ackFormat === 'json') return reply.send({ result: 'OK' });
    return reply.type('text/plain; charset=utf-8').send('OK');
  }

  private toJob(request: FastifyRequest): PopbillEventJob | WebhookRejection {
    const body = request.body;
    if (body === undefined) {
      return new WebhookRejection(
        415,
        'unsupported_media_type',
        'Content-Type must be application/json',
      );
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return new WebhookRejection(400, 'not_an_object', 'the body must be a JSON object');
    }
    if (nestsDeeperThan(body, MAX_BODY_DEPTH)) {
      return new WebhookRejection(
        400,
        'too_deep',
        `the body is nested deeper than ${MAX_BODY_DEPTH} levels`,
      );
    }
    const headers = request.headers;
    const mid = headerText(headers['pb-webhook-mid']);
    const event = body as JsonObject;
    const headerEventType = headerText(headers['pb-webhook-eventtype']);
    const check = checkPopbillEvent(headerText(headers['pb-webhook-type']), event, {
      eventType: headerEventType,
      corpNum: headerText(headers['pb-webhook-corpnum']),
    });
    const { webhookType, flags } = check;
    const manual = check.eventType === MANUAL_EVENT_TYPE || headerEventType === MANUAL_EVENT_TYPE;
    const job: PopbillEventJob = {
      v: 1,
      ...(manual ? manualEventIdFor : eventIdFor)(webhookType, mid, event),
      webhookType,
      corpNum: check.corpNum,
      eventType: check.eventType,
      receivedAt: isoNow(),
      requestId: String(request.id),
      headers: popbillHeaders(headers),
      body: event,
      flags,
    };
    if (flags.length > 0) {
      for (const flag of flags) this.metrics.flagged.inc({ flag });
      request.log.warn(
        { eventId: job.eventId, webhookType, eventType: job.eventType, flags },
        'accepting a webhook that departs from the spec',
      );
    }
    return job;
  }
}
