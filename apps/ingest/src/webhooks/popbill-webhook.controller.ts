import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Inject,
  Logger,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  UnsupportedMediaTypeException,
  UseGuards,
} from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { JsonObject, PopbillEventJob } from '@app/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { INGEST_CONFIG, IngestConfig } from '../ingest.config';
import { IngestMetrics, RejectReason } from '../metrics/ingest.metrics';
import { eventIdFor } from './event-id';
import { PopbillAuthGuard } from './popbill-auth.guard';
import { TaxinvoiceStateEventDto } from './popbill-event.dto';
import { PopbillEventProducer, QueueUnavailableError } from './popbill-event.producer';
import {
  checkPopbillEvent,
  checkWebhookType,
  MAX_BODY_DEPTH,
  nestsDeeperThan,
} from './popbill-event.validator';

const MAX_MID_LENGTH = 200;

const headerText = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value[0] : value;

/** Popbill's headers as they arrived; credentials never start with "pb-", so none are kept. */
function popbillHeaders(headers: FastifyRequest['headers']): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('pb-') && value !== undefined) kept[name] = headerText(value) ?? '';
  }
  return kept;
}

@ApiTags('webhooks')
@Controller('webhooks')
export class PopbillWebhookController {
  private readonly logger = new Logger(PopbillWebhookController.name);

  constructor(
    private readonly producer: PopbillEventProducer,
    private readonly metrics: IngestMetrics,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
  ) {}

  @Post('popbill')
  @HttpCode(200)
  @UseGuards(PopbillAuthGuard)
  @ApiOperation({
    summary: 'Receive one Popbill webhook',
    description:
      'Acknowledged with 200 "OK" only once the event is stored in Redis. A re-sent event (same ' +
      'Pb-Webhook-MID within the dedupe window) is acknowledged without a second job.',
  })
  @ApiHeader({ name: 'Pb-Webhook-Type', required: true, example: 'TAXINVOICE.STATE' })
  @ApiHeader({ name: 'Pb-Webhook-MID', required: false, description: 'event id; the dedupe key' })
  @ApiHeader({ name: 'Pb-Webhook-Corpnum', required: false, example: '1012345678' })
  @ApiBody({
    type: TaxinvoiceStateEventDto,
    description: 'TAXINVOICE.STATE shown; any JSON object is accepted for other types',
  })
  @ApiResponse({
    status: 200,
    description: 'stored (or already stored): body "OK" or {"result":"OK"}',
  })
  @ApiResponse({
    status: 400,
    description: 'not JSON, not an object, missing header or invalid fields (each named)',
  })
  @ApiResponse({ status: 401, description: 'missing or wrong HTTP Basic / X-Api-Key' })
  @ApiResponse({ status: 403, description: 'source address not allowed' })
  @ApiResponse({ status: 413, description: 'body over the limit' })
  @ApiResponse({ status: 415, description: 'Content-Type is not application/json' })
  @ApiResponse({ status: 503, description: 'Redis did not store the event; Popbill will resend' })
  async receive(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Body() body: unknown,
  ): Promise<string | { result: 'OK' }> {
    const job = this.toJob(request, body);
    let outcome;
    try {
      outcome = await this.producer.enqueue(job);
    } catch (error) {
      if (!(error instanceof QueueUnavailableError)) throw error;
      this.metrics.unavailable.inc();
      this.logger.error(
        { eventId: job.eventId, err: error.message },
        'webhook not stored: answering 503 so Popbill resends',
      );
      throw new ServiceUnavailableException('the event could not be stored right now; retry later');
    }
    this.logger.log(
      {
        eventId: job.eventId,
        webhookType: job.webhookType,
        eventType: job.eventType,
        outcome,
        flags: job.flags,
      },
      `webhook ${outcome}`,
    );
    if (this.config.ackFormat === 'json') return { result: 'OK' };
    reply.type('text/plain; charset=utf-8');
    return 'OK';
  }

  private toJob(request: FastifyRequest, body: unknown): PopbillEventJob {
    if (body === undefined) {
      this.reject('unsupported_media_type');
      throw new UnsupportedMediaTypeException('Content-Type must be application/json');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      this.reject('not_an_object');
      throw new BadRequestException('the body must be a JSON object');
    }
    if (nestsDeeperThan(body, MAX_BODY_DEPTH)) {
      this.reject('too_deep');
      throw new BadRequestException(`the body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    }
    const headers = request.headers;
    const webhookType = headerText(headers['pb-webhook-type']);
    const typeProblem = checkWebhookType(webhookType);
    if (typeProblem || webhookType === undefined) {
      this.reject('missing_header');
      throw new BadRequestException(typeProblem);
    }
    const mid = headerText(headers['pb-webhook-mid']);
    if (mid !== undefined && mid.length > MAX_MID_LENGTH) {
      this.reject('missing_header');
      throw new BadRequestException(`Pb-Webhook-MID is longer than ${MAX_MID_LENGTH} characters`);
    }
    const event = body as JsonObject;
    const check = checkPopbillEvent(
      webhookType,
      event,
      headerText(headers['pb-webhook-eventtype']),
    );
    if (!check.ok) {
      this.reject('validation');
      this.logger.warn(
        { mid, webhookType, errors: check.errors },
        'webhook rejected: invalid fields',
      );
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: `invalid ${webhookType} event: ${check.errors.map((e) => e.field).join(', ')}`,
        errors: check.errors,
      });
    }
    for (const flag of check.flags) this.metrics.flagged.inc({ flag });
    if (check.flags.includes('unknown-event-type')) {
      this.logger.warn(
        { mid, webhookType, eventType: check.eventType },
        'accepting webhook with an unknown eventType',
      );
    }
    return {
      v: 1,
      ...eventIdFor(webhookType, mid, event),
      webhookType,
      corpNum: headerText(headers['pb-webhook-corpnum']) || check.corpNum,
      eventType: check.eventType,
      receivedAt: new Date().toISOString(),
      requestId: String(request.id),
      headers: popbillHeaders(headers),
      body: event,
      flags: check.flags,
    };
  }

  private reject(reason: RejectReason): void {
    this.metrics.rejected.inc({ reason });
  }
}
