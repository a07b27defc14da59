import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { JandiStandin } from '@app/jandi-standin';
import { REPO_ROOT } from '../../../test/support/process';
import { TEST_REDIS_URL } from '../../../test/support/redis';

const ITEM_KEY = /\b[A-Z]\d{17}\b/g;
/** How far back from a 429 the report reaches: a send's whole flight and a window, with room. */
const LOOKBACK_MS = 6000;
const TICK_MS = 50;
/** A tick this late means the test process, stand-in included, ran nothing meanwhile. */
const STALL_MS = 250;

interface Entry {
  at: number;
  text: string;
}

/**
 * What the limiter wrote (every ZADD/ZREM/SET on one quota's keys, seen through MONITOR, Lua's
 * own commands included) beside what the stand-in counted, so a 429 can be explained from the
 * test's artifacts: which grant each counted request belonged to and when the limiter let it go.
 */
export class QuotaTrace {
  private monitor: ChildProcess | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private readonly entries: Entry[] = [];

  constructor(
    private readonly standin: JandiStandin,
    private readonly stem: string,
  ) {}

  /** redis-cli rather than ioredis's monitor(), whose replies can trip its command queue. */
  start(): void {
    // The stand-in stamps arrivals on this process's clock: a stalled loop stamps them late.
    let last = Date.now();
    this.stallTimer = setInterval(() => {
      const now = Date.now();
      if (now - last > STALL_MS)
        this.entries.push({ at: now, text: `test process stalled ${now - last} ms` });
      last = now;
    }, TICK_MS);
    const monitor = spawn('redis-cli', ['-u', TEST_REDIS_URL, 'monitor'], { stdio: 'pipe' });
    this.monitor = monitor;
    monitor.on('error', (error) =>
      this.entries.push({ at: 0, text: `no trace: ${error.message}` }),
    );
    createInterface({ input: monitor.stdout }).on('line', (line) => {
      if (!line.includes(this.stem)) return;
      const time = /^(\d+\.\d+) /.exec(line)?.[1];
      const [command = '', key = '', ...rest] = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(
        (m) => m[1],
      );
      if (!time || !key.startsWith(this.stem) || !/^(zadd|zrem|set)$/i.test(command)) return;
      const at = Math.round(Number(time) * 1000);
      this.entries.push({
        at,
        text: `redis ${command} ${key.slice(this.stem.length)} ${rest.join(' ')}`,
      });
    });
  }

  /** A moment of the test's own, such as a resume, in the timeline. */
  note(text: string): void {
    this.entries.push({ at: Date.now(), text });
  }

  /** The stand-in's afterAnswer hook: the request just recorded, with the documents it showed. */
  arrival(body: string): void {
    const request = this.standin.requests[this.standin.requests.length - 1];
    const keys = [...new Set(body.match(ITEM_KEY) ?? [])];
    const shown =
      keys.length > 3 ? `${keys.slice(0, 3).join(' ')} +${keys.length - 3}` : keys.join(' ');
    this.entries.push({ at: request.at, text: `JANDI ${request.status} ${shown}` });
  }

  /** Writes test-artifacts/quota-<label>-<time>.txt: the faults, then each 429's lead-up. */
  report(label: string, faults: { at: number; fault: string }[], tooMany: number[]): string {
    const sorted = [
      ...this.entries,
      ...faults.map((f) => ({ at: f.at, text: `FAULT ${f.fault}` })),
    ].sort((a, b) => a.at - b.at);
    const lines = tooMany.flatMap((at) => [
      `--- 429 at ${new Date(at).toISOString()}; times are ms relative to it`,
      ...sorted
        .filter((e) => e.at >= at - LOOKBACK_MS && e.at <= at + 200)
        .map((e) => `${String(e.at - at).padStart(6)} ${e.text}`),
    ]);
    const dir = join(REPO_ROOT, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `quota-${label}-${Date.now()}.txt`);
    writeFileSync(file, [...faults.map((f) => `${f.at} ${f.fault}`), ...lines, ''].join('\n'));
    return file;
  }

  close(): void {
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.monitor?.kill();
  }
}
