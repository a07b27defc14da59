import { Module } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.guard';
import { AdminController } from './admin.controller';

/** Imported only when ADMIN_TOKEN is set: without it the endpoints do not exist. */
@Module({
  controllers: [AdminController],
  providers: [AdminAuthGuard],
})
export class AdminModule {}
