/** Stops the throwaway redis-server global-setup.ts started, if it started one. */
export default async function globalTeardown(): Promise<void> {
  const child = globalThis.__testRedis;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
