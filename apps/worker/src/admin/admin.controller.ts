import { InjectQueue } from '@nestjs/bullmq';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Logger,
  Post,
  Query,
  UseGuards,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { RELAY_QUEUE } from '@app/contracts';
import type { Queue } from 'bullmq';
import { Transform } from 'class-transformer';
import { IsBoolean, IsISO8601, IsOptional, IsString } from 'class-validator';
import { AdminAuthGuard } from './admin-auth.guard';
import { checkReplayFilter, DeadLetters, type DeadLetter } from './dead-letters';

export class ReplayRequestDto {
  @IsOptional() @IsBoolean() all?: boolean;
  @IsOptional() @IsString() reason?: string;
  @IsOptional() @IsISO8601() since?: string;
  @IsOptional() @IsISO8601() until?: string;
  @IsOptional() @IsString() id?: string;
}

/** The same filter from a query string, where `all` arrives as the text "true" or "false". */
export class ListQueryDto extends ReplayRequestDto {
  @Transform(({ value }) => ({ true: true, false: false })[value as string] ?? value)
  @IsOptional()
  @IsBoolean()
  declare all?: boolean;
}

@Controller('admin/dead-letters')
@UseGuards(AdminAuthGuard)
@UsePipes(new ValidationPipe({ whitelist: true, transform: true }))
export class AdminController {
  private readonly logger = new Logger(AdminController.name);
  private readonly deadLetters: DeadLetters;

  constructor(@InjectQueue(RELAY_QUEUE) queue: Queue) {
    this.deadLetters = new DeadLetters(queue);
  }

  @Get()
  list(@Query() filter: ListQueryDto): Promise<DeadLetter[]> {
    return this.deadLetters.list({ all: true, ...filter });
  }

  @Post('replay')
  @HttpCode(200)
  async replay(@Body() filter: ReplayRequestDto): Promise<{ replayed: string[] }> {
    try {
      checkReplayFilter(filter ?? {});
    } catch (error) {
      throw new BadRequestException((error as Error).message);
    }
    const replayed = await this.deadLetters.replay(filter);
    this.logger.log(
      { outcome: 'replayed', count: replayed.length, filter },
      'dead letters replayed',
    );
    return { replayed };
  }
}
