// Preloaded by bench:fanout with BENCH_CPU_PROF_DIR (NODE_OPTIONS refuses --cpu-prof): profiles
// the process from start and writes <dir>/<pid>.cpuprofile on SIGUSR2.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Session } = require('node:inspector');

const session = new Session();
session.connect();
session.post('Profiler.enable', () => session.post('Profiler.start'));
process.on('SIGUSR2', () =>
  session.post('Profiler.stop', (error, result) => {
    if (!error)
      writeFileSync(
        join(process.env.BENCH_CPU_PROF_DIR, `${process.pid}.cpuprofile`),
        JSON.stringify(result.profile),
      );
  }),
);
