import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until check() is true; fails naming what it waited for. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export interface RunningApp {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code or signal. */
  stop(graceMs?: number): Promise<number | string | null>;
  kill(): Promise<void>;
}

/**
 * Starts a built app as `npm run start:<app>` does (node --enable-source-maps
 * dist/apps/<app>/main.js), without reading a developer's .env, then waits until its health
 * endpoint answers 200. Ingest gets a free ADMIN_PORT unless given.
 */
export async function startApp(
  app: 'ingest' | 'worker' | 'jandi-sink',
  env: Record<string, string>,
  healthUrl: string,
  // Ingest has taken over 20 s to get ready on a 2-core machine busy with image builds.
  timeoutMs = 60_000,
  /** The build to run: another checkout's dist/ (benchmarks compare two builds). */
  dist = join(REPO_ROOT, 'dist'),
): Promise<RunningApp> {
  // Ingest's admin port has a fixed default: parallel tests would collide on it.
  const adminPort =
    app === 'ingest' && !env.ADMIN_PORT ? { ADMIN_PORT: String(await freePort()) } : {};
  const main = join(dist, 'apps', app, 'main.js');
  const child = spawn(process.execPath, ['--enable-source-maps', main], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      ...adminPort,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const running: RunningApp = {
    child,
    output: () => output,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null)
        return child.signalCode ?? child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`${app} exited with ${child.exitCode}:\n${output}`);
        try {
          return (await fetch(healthUrl)).status === 200;
        } catch {
          return false;
        }
      },
      timeoutMs,
      `${app} at ${healthUrl}`,
      100,
    );
  } catch (error) {
    await running.kill();
    throw error;
  }
  return running;
}
