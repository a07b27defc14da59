import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { RELAY_QUEUE } from '@app/contracts';
import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { WorkerMetrics } from '../metrics/worker.metrics';
import { JandiQuotaLimiter } from '../rate-limit/jandi-quota.limiter';
import { WORKER_REDIS } from '../redis/redis.module';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';
import { plainText } from '../jandi/jandi-markup';
import { JandiSender } from '../jandi/jandi.sender';
import { ShutdownSignal } from '../shutdown/shutdown.signal';
import type { JandiMessage } from '../jandi/jandi-message';

/** The destination behind JANDI_WEBHOOK_URL_OPS. */
export const OPS_DESTINATION = 'ops';

export type OpsNoticeKind = 'dead_letter' | 'failing';

/** A notice whose quota slot is further away than this is dropped rather than awaited. */
const MAX_QUOTA_WAIT_MS = 60_000;

const REPLAY_HOWTO =
  '원인을 고친 뒤 `docker compose exec worker npm run replay -- --reason "<사유>" --dry-run` 으로 ' +
  '대상을 확인하고, `--dry-run` 없이 다시 실행하세요 (Bull Board: Failed → Retry 도 됩니다).';

/**
 * The URL operators' notices go to, or null when there is none for this destination: no OPS
 * URL, or the destination is the OPS channel itself (a notice about it would never arrive).
 */
export function opsUrlFor(
  config: Pick<WorkerConfig, 'destinations'>,
  destination: string,
): string | null {
  const opsUrl = config.destinations[OPS_DESTINATION];
  if (!opsUrl || destination === OPS_DESTINATION) return null;
  return config.destinations[destination] === opsUrl ? null : opsUrl;
}

/** The Korean notice: what happened, how many, how to replay. */
export function opsNoticeMessage(
  kind: OpsNoticeKind,
  destination: string,
  detail: { reason: string; deadLetters: number; failingForMs?: number },
): JandiMessage {
  const reason = plainText(detail.reason).slice(0, 300);
  const what =
    kind === 'dead_letter'
      ? `${destination} 대상으로 보내지 못한 이벤트가 데드레터로 옮겨졌습니다. 사유: ${reason}`
      : `${destination} 대상으로의 JANDI 전송이 ${Math.round((detail.failingForMs ?? 0) / 60_000)}분 넘게 ` +
        `실패하고 있습니다. 최근 오류: ${reason}`;
  return {
    body:
      kind === 'dead_letter'
        ? `[Popbill 릴레이] 데드레터 발생: ${destination}`
        : `[Popbill 릴레이] JANDI 전송 실패 지속: ${destination}`,
    connectColor: '#E01E5A',
    connectInfo: [
      { title: '무엇', description: what },
      { title: '몇 건', description: `현재 데드레터 ${detail.deadLetters}건` },
      {
        title: '재처리 방법',
        description:
          kind === 'dead_letter'
            ? REPLAY_HOWTO
            : `JANDI_WEBHOOK_URL 설정과 JANDI 상태를 확인하세요. 복구되면 대기 중인 이벤트는 자동으로 재시도되고, 데드레터는 다음과 같이 재처리합니다. ${REPLAY_HOWTO}`,
      },
    ],
  };
}

/**
 * Tells the operators' JANDI topic (JANDI_WEBHOOK_URL_OPS) about dead letters and destinations
 * failing for OPS_ALERT_AFTER_MS: at most one notice per destination per OPS_NOTICE_INTERVAL_MS
 * across all workers (a Redis key), sent under the same quota as every message. Notices are not
 * jobs: one that cannot be sent is logged and dropped, never retried or noticed about.
 */
@Injectable()
export class OpsNotices {
  private readonly logger = new Logger(OpsNotices.name);

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    @InjectQueue(RELAY_QUEUE) private readonly queue: Queue,
    private readonly limiter: JandiQuotaLimiter,
    private readonly sender: JandiSender,
    private readonly metrics: WorkerMetrics,
    private readonly shutdown: ShutdownSignal,
  ) {}

  private key(kind: string, destination: string): string {
    return `${this.config.queuePrefix}:ops:${kind}:${destination}`;
  }

  deadLettered(destination: string, reason: string): void {
    if (!opsUrlFor(this.config, destination)) return;
    void this.notify('dead_letter', destination, reason);
  }

  /** A failed request to a destination; notices once it has failed for OPS_ALERT_AFTER_MS. */
  failed(destination: string, reason: string): void {
    if (!opsUrlFor(this.config, destination)) return;
    void this.checkFailing(destination, reason);
  }

  delivered(destination: string): void {
    if (!opsUrlFor(this.config, destination)) return;
    this.redis.del(this.key('failing-since', destination)).catch(() => undefined);
  }

  private async checkFailing(destination: string, reason: string): Promise<void> {
    try {
      // Forgotten when failures stop without a delivery for longer than any retry waits.
      const ttl = 2 * Math.max(this.config.ops.alertAfterMs, this.config.backoffCeilingMs);
      const key = this.key('failing-since', destination);
      await this.redis.set(key, Date.now(), 'PX', ttl, 'NX');
      await this.redis.pexpire(key, ttl);
      const failingForMs = Date.now() - Number(await this.redis.get(key));
      if (failingForMs >= this.config.ops.alertAfterMs) {
        await this.notify('failing', destination, reason, failingForMs);
      }
    } catch (error) {
      this.logger.warn(
        { destination, reason: (error as Error).message },
        'ops notice check failed',
      );
    }
  }

  private async notify(
    kind: OpsNoticeKind,
    destination: string,
    reason: string,
    failingForMs?: number,
  ): Promise<void> {
    const log = { destination, kind };
    try {
      const claimed = await this.redis.set(
        this.key('notice', destination),
        kind,
        'PX',
        this.config.ops.noticeIntervalMs,
        'NX',
      );
      if (claimed !== 'OK') {
        this.metrics.opsNotices.inc({ kind, outcome: 'suppressed' });
        return;
      }
      const deadLetters = await this.queue.getFailedCount();
      const message = opsNoticeMessage(kind, destination, { reason, deadLetters, failingForMs });
      this.metrics.opsNotices.inc({ kind, outcome: await this.send(message) });
    } catch (error) {
      this.metrics.opsNotices.inc({ kind, outcome: 'failed' });
      this.logger.warn({ ...log, reason: (error as Error).message }, 'ops notice not sent');
    }
  }

  private async send(message: JandiMessage): Promise<'sent' | 'failed' | 'dropped'> {
    const url = this.config.destinations[OPS_DESTINATION];
    const member = `ops-notice:${randomUUID()}`;
    let decision = await this.limiter.acquire(url, member);
    while (!decision.granted) {
      if (decision.waitMs > MAX_QUOTA_WAIT_MS || this.shutdown.signal.aborted) {
        await this.limiter.release(url, member);
        this.logger.warn({ destination: OPS_DESTINATION }, 'ops notice dropped: no quota soon');
        return 'dropped';
      }
      await sleep(decision.waitMs, undefined, { signal: this.shutdown.signal }).catch(
        () => undefined,
      );
      decision = await this.limiter.acquire(url, member);
    }
    const { verdict } = await this.sender.send(url, message, decision, {
      destination: OPS_DESTINATION,
      what: 'ops notice',
      log: { destination: OPS_DESTINATION },
      abort: this.shutdown.signal,
    });
    return verdict.kind === 'delivered' ? 'sent' : 'failed';
  }
}
