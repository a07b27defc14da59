import { Module } from '@nestjs/common';
import { JandiClient } from './jandi.client';
import { JandiSender } from './jandi.sender';

/** The HTTP client for JANDI and the one send every message, digest and notice goes through. */
@Module({
  providers: [JandiClient, JandiSender],
  exports: [JandiSender],
})
export class JandiModule {}
