/**
 * npm run bench:render — rendering one very wide Popbill body as a JANDI message, against a plain
 * JSON.stringify of the same body (the least any renderer must do) in the same run. Bodies: 10,000
 * and 30,000 keys, and the widest body ingest accepts (as many keys as fit in BODY_LIMIT_BYTES).
 * Rendering runs on the worker's event loop, so its time is time no other job, lock renewal or
 * health check gets.
 */
import { performance } from 'node:perf_hooks';
import type { JsonObject } from '@app/contracts';
import { printRows, runBench } from './support';
import { fixtureJob } from '../apps/worker/test/popbill-fixtures';
import { toJandiMessage } from '../apps/worker/src/rendering/to-jandi-message';

const BODY_LIMIT_BYTES = Number(process.env.BENCH_BODY_LIMIT_BYTES ?? 262_144);
const MIN_RUN_MS = 1000;
const MAX_RUNS = 20;

/** Up to `count` keys as short as keys get (`"m7z":0`), stopping before `limit` bytes of JSON. */
function wideBody(count: number, limit = Infinity): JsonObject {
  const body: JsonObject = {};
  let bytes = 2;
  for (let i = 0; i < count; i++) {
    const key = i.toString(36);
    const entry = JSON.stringify(key).length + 2 + (i === 0 ? 0 : 1);
    if (bytes + entry > limit) break;
    body[key] = 0;
    bytes += entry;
  }
  return body;
}

/** Median milliseconds of `fn`, repeated until MIN_RUN_MS has passed (at least once). */
function median(fn: () => unknown): { ms: number; runs: number } {
  const times: number[] = [];
  const start = performance.now();
  do {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  } while (performance.now() - start < MIN_RUN_MS && times.length < MAX_RUNS);
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], runs: times.length };
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;

async function main(): Promise<void> {
  const cases: Array<[string, JsonObject]> = [
    ['10,000 keys', wideBody(10_000)],
    ['30,000 keys', wideBody(30_000)],
    [`widest under ${BODY_LIMIT_BYTES} B`, wideBody(Infinity, BODY_LIMIT_BYTES)],
  ];
  for (const [name, body] of cases) {
    const job = fixtureJob('unknown-type.json', { body });
    const bytes = Buffer.byteLength(JSON.stringify(body));
    const baseline = median(() => JSON.stringify(body));
    let entries = 0;
    const render = median(() => {
      entries = toJandiMessage(job).connectInfo.length;
    });
    printRows(`render ${name}`, [
      ['keys', Object.keys(body).length.toLocaleString('en')],
      ['body bytes', bytes.toLocaleString('en')],
      ['baseline JSON.stringify (median)', ms(baseline.ms)],
      ['toJandiMessage (median)', `${ms(render.ms)} over ${render.runs} run(s)`],
      ['render / baseline', `${(render.ms / baseline.ms).toFixed(1)}×`],
      ['entries in the message', String(entries)],
    ]);
  }
}

runBench(main);
