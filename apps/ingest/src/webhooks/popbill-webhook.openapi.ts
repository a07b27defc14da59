import type { OpenAPIObject } from '@nestjs/swagger';

type Operation = NonNullable<OpenAPIObject['paths'][string]['post']>;

/** The webhook route is a plain Fastify route, so Swagger's scanner cannot describe it. */
export const WEBHOOK_OPERATION: Operation = {
  tags: ['webhooks'],
  summary: 'Receive one Popbill webhook',
  description:
    'Acknowledged with 200 "OK" only once the event is stored in Redis. A re-sent event (same ' +
    'Pb-Webhook-MID within the dedupe window) is acknowledged without a second job; a re-sent ' +
    'event whose job is in the dead letters puts that job back to work. Any JSON object from an ' +
    'authorised sender is stored: odd fields become flags on the job, never a 400.',
  operationId: 'receivePopbillWebhook',
  security: [{}, { basic: [] }, { api_key: [] }],
  parameters: [
    {
      name: 'Pb-Webhook-Type',
      in: 'header',
      required: false,
      schema: { type: 'string', example: 'TAXINVOICE.STATE' },
      description:
        'TAXINVOICE.STATE, STATEMENT.STATE and CASHBILL.STATE are checked field by field (findings ' +
        'become flags); missing or malformed, the event is stored as type "unknown"',
    },
    {
      name: 'Pb-Webhook-MID',
      in: 'header',
      required: false,
      schema: { type: 'string' },
      description:
        'event id; the dedupe key (without it, a hash of type and body). A MANUAL re-execution ' +
        'is keyed on MID and body, so it is delivered again',
    },
    {
      name: 'Pb-Webhook-Corpnum',
      in: 'header',
      required: false,
      schema: { type: 'string', example: '1012345678' },
      description: 'used only when the body has no corpNum; a different value is flagged',
    },
  ],
  requestBody: {
    required: true,
    description: 'The Popbill event as sent; any JSON object is accepted for unmodelled types',
    content: {
      'application/json': {
        schema: { type: 'object' },
        example: {
          eventDT: '20261110093012',
          eventType: 'Issue',
          corpNum: '1012345678',
          itemKey: '026111009300000001',
          ntsConfirmNum: '20261110410000001a2b3c4d',
          stateCode: 300,
          stateDT: '20261110093012',
          issueDT: '20261110093011',
        },
      },
    },
  },
  responses: {
    200: { description: 'stored (or already stored): body "OK" or {"result":"OK"}' },
    400: { description: 'not JSON, not an object, nested too deep or a forbidden key' },
    401: { description: 'missing or wrong HTTP Basic / X-Api-Key' },
    403: { description: 'source address not allowed' },
    413: { description: 'body over the limit' },
    415: { description: 'Content-Type is not application/json' },
    503: { description: 'Redis did not store the event; Popbill will resend' },
  },
};
