import { Module } from '@nestjs/common';
import { DigestModule } from '../digest/digest.module';
import { DeadLetterPruner } from '../admin/dead-letter-pruner';
import { JandiDeliveryProcessor } from './jandi-delivery.processor';
import { JandiDeliveryService } from './jandi-delivery.service';
import { JandiDigestSender } from '../digest/jandi-digest.sender';
import { JandiModule } from '../jandi/jandi.module';
import { OpsNotices } from '../ops/ops-notices';
import { ShutdownSignal } from '../shutdown/shutdown.signal';

@Module({
  imports: [DigestModule, JandiModule],
  providers: [
    DeadLetterPruner,
    JandiDeliveryProcessor,
    JandiDeliveryService,
    JandiDigestSender,
    ShutdownSignal,
    OpsNotices,
  ],
  exports: [JandiDeliveryProcessor],
})
export class DeliveryModule {}
