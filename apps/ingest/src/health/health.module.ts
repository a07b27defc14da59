import { Module } from '@nestjs/common';
import { WebhookModule } from '../webhooks/webhook.module';
import { HealthController } from './health.controller';

@Module({ imports: [WebhookModule], controllers: [HealthController] })
export class HealthModule {}
