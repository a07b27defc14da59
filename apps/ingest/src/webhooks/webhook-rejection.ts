import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { RejectReason } from '../metrics/ingest.metrics';

/** A webhook answered with an error: its status, the metric reason, and what the caller reads. */
export class WebhookRejection {
  constructor(
    readonly status: number,
    readonly reason: RejectReason | null,
    readonly message: string,
    readonly details: Record<string, unknown> = {},
  ) {}

  /** The same JSON shape Nest and Fastify give their own errors: statusCode, error, message. */
  send(reply: FastifyReply): FastifyReply {
    return reply.code(this.status).send({
      statusCode: this.status,
      error: STATUS_CODES[this.status],
      message: this.message,
      ...this.details,
    });
  }
}
