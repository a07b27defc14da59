import { setTimeout as sleep } from 'node:timers/promises';
import { InjectQueue } from '@nestjs/bullmq';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import {
  isPopbillEventJob,
  RELAY_JOB_OPTIONS,
  RELAY_QUEUE,
  type PopbillEventJob,
} from '@app/contracts';
import { Job, type Queue } from 'bullmq';
import { DigestPool, urlHash, type ClaimedBatch } from './digest-pool';
import { WorkerMetrics } from '../metrics/worker.metrics';
import { JandiQuotaLimiter } from '../rate-limit/jandi-quota.limiter';
import { WORKER_CONFIG, type WorkerConfig } from '../config/worker.config';
import { JandiSender, type QuotaGrant, type SendVerdict } from '../jandi/jandi.sender';
import { relayBackoffDelay } from '../retry/relay-backoff';
import { ShutdownSignal } from '../shutdown/shutdown.signal';
import { toJandiDigest } from '../rendering/to-jandi-digest';

/** The limiter member of every replica's digest sender: one shared reservation per URL. */
export const DIGEST_MEMBER = 'digest-sender';
const IDLE_MS = 250;
const MAX_PAUSE_MS = 1000;
/** Loading and rendering a batch happen inside the lease, before the request's own timeout. */
const LEASE_MARGIN_MS = 5000;

const RETRY_BASE_MS =
  typeof RELAY_JOB_OPTIONS.backoff === 'object' ? (RELAY_JOB_OPTIONS.backoff.delay ?? 5000) : 5000;

/** A destination as the sender serves it. */
interface Target {
  destination: string;
  url: string;
}

/**
 * Sends digests for every destination whose pool holds events: wins the destination's next slot
 * in the exact limiter (ahead of one-per-event reservations), claims up to DIGEST_MAX_EVENTS
 * pooled events under a lease, sends one message and commits or releases the batch. Runs in
 * every replica; the Redis pool and limiter make the replicas take turns. Only destinations in
 * the pools' shared active set get a loop, so idle destinations cost nothing however many there are.
 */
@Injectable()
export class JandiDigestSender implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JandiDigestSender.name);
  private stopping = false;
  private supervisor: Promise<void> = Promise.resolve();
  private wakeSupervisor: () => void = () => undefined;
  private readonly targets = new Map<string, Target>();
  private readonly hashes = new Map<string, string>();
  private readonly loops = new Map<string, Promise<void>>();
  private readonly wakers = new Map<string, () => void>();

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @InjectQueue(RELAY_QUEUE) private readonly queue: Queue,
    private readonly pool: DigestPool,
    private readonly limiter: JandiQuotaLimiter,
    private readonly sender: JandiSender,
    private readonly metrics: WorkerMetrics,
    private readonly shutdown: ShutdownSignal,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.digest.enabled) return;
    for (const [destination, url] of Object.entries(this.config.destinations)) {
      const hash = urlHash(url);
      this.hashes.set(url, hash);
      if (!this.targets.has(hash)) this.targets.set(hash, { destination, url });
    }
    this.supervisor = this.supervise();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wakeSupervisor();
    for (const wake of this.wakers.values()) wake();
    await this.supervisor;
    await Promise.all(this.loops.values());
  }

  /** An event just joined the pool of `url`: serve it now rather than at the next idle tick. */
  nudge(url: string): void {
    const hash = this.hashes.get(url) ?? urlHash(url);
    if (this.loops.has(hash)) this.wakers.get(hash)?.();
    else this.serve(hash);
  }

  private serve(hash: string): void {
    const target = this.targets.get(hash);
    if (!target || this.loops.has(hash) || this.stopping) return;
    this.loops.set(
      hash,
      this.run(hash, target).finally(() => this.loops.delete(hash)),
    );
  }

  /** Starts a loop for every active destination this replica is not serving yet. */
  private async supervise(): Promise<void> {
    try {
      await this.pool.markActive([...new Set(Object.values(this.config.destinations))]);
    } catch (error) {
      this.logger.warn(
        { outcome: 'digest-error', reason: (error as Error).message },
        'could not look for pools left from before',
      );
    }
    while (!this.stopping) {
      try {
        for (const hash of await this.pool.active()) this.serve(hash);
      } catch (error) {
        this.logger.warn(
          { outcome: 'digest-error', reason: (error as Error).message },
          'digest sender could not read the active pools',
        );
      }
      const woken = new AbortController();
      this.wakeSupervisor = () => woken.abort();
      await sleep(IDLE_MS, undefined, { signal: woken.signal }).catch(() => undefined);
    }
  }

  private async pause(hash: string, ms: number): Promise<void> {
    if (this.stopping || ms <= 0) return;
    const woken = new AbortController();
    this.wakers.set(hash, () => woken.abort());
    await sleep(ms, undefined, { signal: woken.signal }).catch(() => undefined);
    this.wakers.delete(hash);
  }

  /** Serves one destination until its pool is empty; the supervisor restarts it when needed. */
  private async run(hash: string, { destination, url }: Target): Promise<void> {
    while (!this.stopping) {
      let pauseMs: number | 'idle';
      try {
        pauseMs = await this.step(destination, url);
      } catch (error) {
        this.logger.warn(
          { destination, outcome: 'digest-error', reason: (error as Error).message },
          'digest sender step failed',
        );
        pauseMs = MAX_PAUSE_MS;
      }
      if (pauseMs === 'idle') return;
      await this.pause(hash, pauseMs);
    }
  }

  /** One turn: returns how long to pause before the next, or 'idle' when the pool is empty. */
  private async step(destination: string, url: string): Promise<number | 'idle'> {
    const { poolSize, backoffMs, reaped } = await this.pool.prepare(url);
    if (reaped > 0) {
      this.logger.warn(
        { destination, outcome: 'lease-expired', events: reaped },
        'a digest sender lost its lease; its events are back in the pool',
      );
    }
    if (poolSize === 0) {
      await this.limiter.release(url, DIGEST_MEMBER);
      return 'idle';
    }
    if (backoffMs > 0) return Math.min(backoffMs, MAX_PAUSE_MS);
    const decision = await this.limiter.acquire(url, DIGEST_MEMBER, true);
    if (!decision.granted) return Math.min(decision.waitMs, MAX_PAUSE_MS);
    await this.send(destination, url, decision);
    return 0;
  }

  private async send(destination: string, url: string, grant: QuotaGrant): Promise<void> {
    const { sendId } = grant;
    const batch = await this.pool.claim(
      url,
      this.config.digest.maxEvents,
      this.config.requestTimeoutMs + 2 * LEASE_MARGIN_MS,
    );
    if (batch.members.length === 0) return this.limiter.abandon(url, sendId);
    const progress = { posted: false };
    try {
      await this.sendBatch(destination, url, grant, batch, progress);
    } finally {
      // Once posted, the outcome decides; an error after that leaves the lease to run out.
      if (!progress.posted) {
        await this.limiter.abandon(url, sendId);
        await this.pool.release(
          url,
          batch.batchId,
          batch.members.map((m) => m.jobId),
          { endLease: true },
        );
      }
    }
  }

  /** Sets `progress.posted` once the request is made; before that the caller frees everything. */
  private async sendBatch(
    destination: string,
    url: string,
    grant: QuotaGrant,
    batch: ClaimedBatch,
    progress: { posted: boolean },
  ): Promise<void> {
    const { batchId } = batch;
    const jobs = await Promise.all(
      batch.members.map((m) => Job.fromId<PopbillEventJob>(this.queue, m.jobId)),
    );
    const jobOf = new Map<string, Job<PopbillEventJob>>();
    const gone: string[] = [];
    jobs.forEach((job, i) => {
      if (job && isPopbillEventJob(job.data)) jobOf.set(job.data.eventId, job);
      else gone.push(batch.members[i].jobId);
    });
    // A removed or malformed job is not ours to show; its own processor decides its fate.
    if (gone.length > 0)
      await this.pool.release(url, batchId, gone, { endLease: false, mode: 'solo' });
    if (jobOf.size === 0) return;

    const { message, shown } = toJandiDigest([...jobOf.values()].map((job) => job.data));
    const members = shown.map((event) => ({
      jobId: jobOf.get(event.eventId)?.id ?? event.eventId,
      eventId: event.eventId,
    }));
    const shownIds = new Set(members.map((m) => m.jobId));
    const rest = [...jobOf.values()].map((j) => j.id ?? '').filter((id) => !shownIds.has(id));
    if (rest.length > 0) await this.pool.release(url, batchId, rest, { endLease: false });
    if (!(await this.pool.renew(url, batchId, this.config.requestTimeoutMs + LEASE_MARGIN_MS)))
      return;

    const log = { destination, batchId, events: members.length };
    progress.posted = true;
    const { verdict, report } = await this.sender.send(url, message, grant, {
      destination,
      what: 'digest',
      log,
      abort: this.shutdown.signal,
    });
    const line = `digest ${batchId} of ${members.length} events → ${destination}: ${report.answer} in ${Math.round(report.durationMs)} ms → ${digestDecision(verdict)}`;
    await Promise.all(
      shown.map((event) =>
        jobOf
          .get(event.eventId)
          ?.log(line)
          .catch(() => undefined),
      ),
    );
    const ids = members.map((m) => m.jobId);
    const giveBack = (mode: 'pool' | 'solo' = 'pool') =>
      this.pool.release(url, batchId, ids, { endLease: true, mode });
    const outcome = DIGEST_OUTCOMES[verdict.kind];

    switch (verdict.kind) {
      case 'delivered': {
        const foreign = await this.pool.commit(url, batchId, members);
        if (foreign > 0) this.metrics.duplicates.inc({ kind: 'possible' }, foreign);
        this.metrics.digests.inc({ destination, outcome });
        this.metrics.digestEvents.observe({ destination }, members.length);
        const now = Date.now();
        for (const event of shown) {
          const lag = (now - Date.parse(event.receivedAt)) / 1000;
          if (Number.isFinite(lag))
            this.metrics.endToEndLag.observe({ destination }, Math.max(0, lag));
        }
        // Members wait delayed; wake them so their jobs complete on the delivered marker now.
        await Promise.all(
          shown.map((event) =>
            jobOf
              .get(event.eventId)
              ?.promote()
              .catch(() => undefined),
          ),
        );
        return;
      }
      case 'dead':
        // Each event goes alone, so only an event JANDI cannot take is dead-lettered.
        await giveBack('solo');
        this.metrics.digests.inc({ destination, outcome });
        return;
      case 'retry': {
        await giveBack();
        const failures = await this.pool.backOff(url, (n) =>
          relayBackoffDelay(n, RETRY_BASE_MS, {
            ceilingMs: this.config.backoffCeilingMs,
            jitter: this.config.backoffJitter,
          }),
        );
        this.metrics.digests.inc({ destination, outcome });
        this.logger.warn({ ...log, failures }, 'digest events go back to the pool, backed off');
        return;
      }
      case 'expired':
      case 'interrupted':
      case 'cooldown':
        // A cooldown is already in force: the events wait in the pool behind it.
        await giveBack();
        this.metrics.digests.inc({ destination, outcome });
        return;
    }
  }
}

const DIGEST_OUTCOMES = {
  delivered: 'delivered',
  retry: 'failed',
  cooldown: 'rate_limited',
  dead: 'rejected',
  expired: 'expired',
  interrupted: 'interrupted',
} as const satisfies Record<SendVerdict['kind'], string>;

/** What a digest's answer means for each event it showed, for the events' own logs. */
function digestDecision(verdict: SendVerdict): string {
  switch (verdict.kind) {
    case 'expired':
      return 'expired grant: back to the digest pool';
    case 'interrupted':
      return 'interrupted: back to the digest pool';
    case 'delivered':
      return 'delivered in this digest';
    case 'cooldown':
      return 'cooldown: back to the digest pool';
    case 'dead':
      return 'digest refused: each event goes alone';
    case 'retry':
      return 'back to the digest pool, retried with backoff';
  }
}
