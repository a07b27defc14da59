import { DEAD_LETTER_STATE, type PopbillEventJob } from '@app/contracts';
import type { Job, Queue } from 'bullmq';

/** Which dead letters to replay; all given criteria must match. */
export interface ReplayFilter {
  all?: boolean;
  /** Substring of the failure reason, e.g. "40000". */
  reason?: string;
  /** ISO time: failed at or after. */
  since?: string;
  /** ISO time: failed at or before. */
  until?: string;
  id?: string;
}

export interface DeadLetter {
  id: string;
  eventId: string | null;
  reason: string;
  failedAt: string | null;
  attemptsMade: number;
}

const PAGE = 500;

function describe(job: Job<PopbillEventJob>): DeadLetter {
  return {
    id: job.id ?? '',
    eventId: typeof job.data?.eventId === 'string' ? job.data.eventId : null,
    reason: job.failedReason ?? '',
    failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    attemptsMade: job.attemptsMade,
  };
}

/** Throws when a filter would match nothing on purpose or everything by accident. */
export function checkReplayFilter(filter: ReplayFilter): void {
  const narrowed = filter.reason || filter.since || filter.until || filter.id;
  if (!filter.all && !narrowed)
    throw new Error('give all, or at least one of reason, since, until, id');
  for (const key of ['since', 'until'] as const) {
    if (filter[key] && Number.isNaN(Date.parse(filter[key])))
      throw new Error(`${key} is not a date`);
  }
}

export function matchesReplayFilter(letter: DeadLetter, filter: ReplayFilter): boolean {
  const failedAt = letter.failedAt ? Date.parse(letter.failedAt) : null;
  if (filter.id && letter.id !== filter.id) return false;
  if (filter.reason && !letter.reason.includes(filter.reason)) return false;
  if (filter.since && (failedAt === null || failedAt < Date.parse(filter.since))) return false;
  if (filter.until && (failedAt === null || failedAt > Date.parse(filter.until))) return false;
  return true;
}

/** Dead letters are the `failed` jobs of RELAY_QUEUE; replay puts them back with fresh attempts. */
export class DeadLetters {
  constructor(private readonly queue: Queue) {}

  async list(filter: ReplayFilter = { all: true }): Promise<DeadLetter[]> {
    if (filter.id) {
      const job = (await this.queue.getJob(filter.id)) as Job<PopbillEventJob> | undefined;
      if (!job || (await job.getState()) !== DEAD_LETTER_STATE) return [];
      const letter = describe(job);
      return matchesReplayFilter(letter, filter) ? [letter] : [];
    }
    const letters: DeadLetter[] = [];
    for (let start = 0; ; start += PAGE) {
      const jobs = (await this.queue.getJobs(
        [DEAD_LETTER_STATE],
        start,
        start + PAGE - 1,
        true,
      )) as Job<PopbillEventJob>[];
      for (const job of jobs) if (job) letters.push(describe(job));
      if (jobs.length < PAGE) break;
    }
    return letters.filter((letter) => matchesReplayFilter(letter, filter));
  }

  /** Replays the matching dead letters; returns the ids put back in the queue. */
  async replay(filter: ReplayFilter): Promise<string[]> {
    checkReplayFilter(filter);
    return this.replayLetters(await this.list(filter));
  }

  /** Replays these dead letters, telling `onProgress` after each; returns the ids put back. */
  async replayLetters(
    letters: DeadLetter[],
    onProgress: (done: number) => void = () => undefined,
  ): Promise<string[]> {
    const replayed: string[] = [];
    for (const [index, letter] of letters.entries()) {
      const job = await this.queue.getJob(letter.id);
      if (job) {
        await job.retry(DEAD_LETTER_STATE, { resetAttemptsMade: true, resetAttemptsStarted: true });
        replayed.push(letter.id);
      }
      onProgress(index + 1);
    }
    return replayed;
  }
}
