import { Module } from '@nestjs/common';
import { JandiDeliveryProcessor } from './jandi-delivery.processor';
import { JandiDeliveryService } from './jandi-delivery.service';
import { JandiClient } from './jandi.client';
import { ShutdownSignal } from './shutdown.signal';

@Module({
  providers: [JandiDeliveryProcessor, JandiDeliveryService, JandiClient, ShutdownSignal],
  exports: [JandiDeliveryProcessor],
})
export class DeliveryModule {}
