import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { RELAY_QUEUE } from '@app/contracts';
import { PopbillAuth } from './popbill-auth';
import { PopbillEventProducer } from './popbill-event.producer';
import { PopbillWebhookRoute } from './popbill-webhook.route';

/** POST /webhooks/popbill: authorise, check, and store each event once in the relay queue. */
@Module({
  imports: [BullModule.registerQueue({ name: RELAY_QUEUE })],
  providers: [PopbillAuth, PopbillEventProducer, PopbillWebhookRoute],
  // The route is registered on Fastify by ingest.app; readiness asks the producer.
  exports: [PopbillEventProducer, PopbillWebhookRoute],
})
export class WebhookModule {}
