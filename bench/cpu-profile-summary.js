// Summarises the V8 CPU profiles bench:fanout writes with BENCH_CPU_PROF_DIR:
//   node bench/cpu-profile-summary.js <dir> [top]
// Counts only samples from each process's first delivery on (boot excluded), idle excluded, and
// prints self time by function and by owner: the nearest package or worker code above a sample,
// so Node's own HTTP and socket work counts for whoever called it.
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const [dir, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const byFunction = new Map();
const byOwner = new Map();
let busy = 0;

const say = (line) => process.stdout.write(`${line}\n`);
const add = (map, key, dt) => map.set(key, (map.get(key) ?? 0) + dt);
const shortUrl = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/dist\//, 'dist/');
function ownerOf(frame) {
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (pkg) return pkg[1];
  if (frame.url.includes('/dist/apps/')) return 'worker code';
  return null;
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const stack = (id) => {
    const frames = [];
    for (let at = id; at !== undefined; at = parent.get(at)) frames.push(nodes.get(at).callFrame);
    return frames;
  };
  let started = false;
  profile.samples.forEach((id, i) => {
    const frames = stack(id);
    if (!started && !frames.some((f) => f.functionName === 'deliver')) return;
    started = true;
    const leaf = frames[0];
    if (leaf.functionName === '(idle)') return;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    busy += dt;
    add(
      byFunction,
      `${leaf.functionName || '(anonymous)'} ${shortUrl(leaf.url)}:${leaf.lineNumber + 1}`,
      dt,
    );
    const owner = leaf.functionName.startsWith('(')
      ? leaf.functionName
      : (frames.map(ownerOf).find(Boolean) ?? `node (${shortUrl(frames.at(-2)?.url ?? '')})`);
    add(byOwner, owner, dt);
  });
}

const print = (title, map) => {
  say(`\n${title}`);
  for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    say(`${((100 * micros) / busy).toFixed(1).padStart(5)} %  ${key}`);
};
say(`busy time sampled: ${(busy / 1e6).toFixed(1)} s`);
print('self time by function', byFunction);
print('self time by owner', byOwner);
