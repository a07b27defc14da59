import { Module } from '@nestjs/common';
import { DigestModule } from '../digest/digest.module';
import { DeadLetterPruner } from './dead-letter-pruner';
import { JandiDeliveryProcessor } from './jandi-delivery.processor';
import { JandiDeliveryService } from './jandi-delivery.service';
import { JandiDigestSender } from './jandi-digest.sender';
import { JandiClient } from './jandi.client';
import { OpsNotices } from './ops-notices';
import { ShutdownSignal } from './shutdown.signal';

@Module({
  imports: [DigestModule],
  providers: [
    DeadLetterPruner,
    JandiDeliveryProcessor,
    JandiDeliveryService,
    JandiDigestSender,
    JandiClient,
    ShutdownSignal,
    OpsNotices,
  ],
  exports: [JandiDeliveryProcessor],
})
export class DeliveryModule {}
