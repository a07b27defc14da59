/**
 * npm run test:images — builds the Dockerfile's ingest, worker and jandi-sink targets with
 * buildah (no Docker engine needed), starts each image's CMD against the tests' Redis, posts a
 * fixture and sees it at the sink, runs each HEALTHCHECK inside its image, and prints sizes.
 * BUILDAH_ISOLATION (default chroot) and STORAGE_DRIVER (buildah's default) are honoured.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { POPBILL_FIXTURES } from '../support/fixtures';
import { freePort, REPO_ROOT, waitFor } from '../support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis';

const run = promisify(execFile);
const TARGETS = ['ingest', 'worker', 'jandi-sink'] as const;
type Target = (typeof TARGETS)[number];
const imageOf = (target: Target) => `localhost/popbill-jandi-relay-${target}:test`;
const NODE_IMAGE = /^ARG NODE_IMAGE=(\S+)$/m.exec(
  readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'),
)![1];
process.env.BUILDAH_ISOLATION ||= 'chroot';

/** Why the images cannot be built on this machine, or null when they can. */
function whyNotHere(): string | null {
  if (process.platform !== 'linux') return 'buildah runs on Linux only';
  if (spawnSync('buildah', ['--version']).error)
    return 'buildah is not installed (Debian: apt-get install buildah)';
  if (process.getuid?.() !== 0) return 'building the base image with debootstrap needs root';
  const info = spawnSync('buildah', ['info'], { encoding: 'utf8' });
  if (info.status !== 0) return `buildah cannot run here: ${info.stderr.trim()}`;
  const hasBase =
    spawnSync('buildah', ['inspect', '--type', 'image', NODE_IMAGE], { stdio: 'ignore' }).status ===
    0;
  if (!hasBase && spawnSync('debootstrap', ['--version']).error)
    return `the base image ${NODE_IMAGE} is missing and debootstrap is not installed (Debian: apt-get install debootstrap)`;
  return null;
}

async function buildah(args: string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await run('buildah', args, {
      cwd: REPO_ROOT,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`buildah ${args.join(' ')} failed:\n${(stdout + stderr).slice(-4000)}`, {
      cause: error,
    });
  }
}

/**
 * RUN steps reach the npm registry with the host's npm settings for certificates (a proxy may
 * intercept TLS); mounted only while building, so nothing of the build host enters an image.
 */
function npmBuildMounts(dir: string): string[] {
  const npmCafile = spawnSync('npm', ['config', 'get', 'cafile'], {
    encoding: 'utf8',
  }).stdout.trim();
  const cafile = process.env.NODE_EXTRA_CA_CERTS || (npmCafile !== 'null' ? npmCafile : '');
  if (!cafile) return [];
  writeFileSync(join(dir, 'npmrc'), 'cafile=/run/build-ca.pem\n');
  return [
    '-v',
    `${cafile}:/run/build-ca.pem:ro`,
    '-v',
    `${join(dir, 'npmrc')}:/usr/local/etc/npmrc:ro`,
  ];
}

/** The image's Docker config: CMD, HEALTHCHECK (buildah 1.28's --format has no json function). */
async function imageConfig(
  target: Target,
): Promise<{ Cmd: string[]; Healthcheck: { Test: string[] } }> {
  const inspected = JSON.parse(await buildah(['inspect', '--type', 'image', imageOf(target)]));
  return inspected.Docker.config;
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

/** Starts the image's own CMD in a fresh container on the host network. */
async function startImage(target: Target, env: Record<string, string>): Promise<Started> {
  const { Cmd: cmd } = await imageConfig(target);
  const container = (await buildah(['from', '--pull=never', imageOf(target)])).trim();
  containers.push(container);
  const child = spawn(
    'buildah',
    ['run', '--network', 'host', ...envFlags(env), container, '--', ...cmd],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  running.push({ target, child, container, env });
  return { child, output: () => output };
}

const envFlags = (env: Record<string, string>) =>
  Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);

async function healthcheck(target: Target): Promise<number> {
  const { Test } = (await imageConfig(target)).Healthcheck;
  expect(Test[0]).toBe('CMD');
  const app = running.find((r) => r.target === target)!;
  const result = spawnSync(
    'buildah',
    ['run', '--network', 'host', ...envFlags(app.env), app.container, '--', ...Test.slice(1)],
    { timeout: 30_000 },
  );
  return result.status ?? -1;
}

async function inImage(target: Target, script: string): Promise<number> {
  const container = running.find((r) => r.target === target)!.container;
  return (
    spawnSync('buildah', ['run', container, '--', 'node', '-e', script], { timeout: 30_000 })
      .status ?? -1
  );
}

const containers: string[] = [];
const running: {
  target: Target;
  child: ChildProcess;
  container: string;
  env: Record<string, string>;
}[] = [];
const reason = whyNotHere();
if (reason) process.stderr.write(`\nnpm run test:images skipped: ${reason}\n\n`);

(reason ? describe.skip : describe)('the Dockerfile images, built with buildah', () => {
  const prefix = uniquePrefix('images');
  const ports = { ingest: 0, worker: 0, sink: 0 };
  let apps: Record<Target, Started>;

  beforeAll(async () => {
    const started = Date.now();
    await run(join(REPO_ROOT, 'test', 'images', 'base-image.sh'), [NODE_IMAGE], {
      timeout: 20 * 60_000,
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`base image: ${(error.stdout ?? '') + (error.stderr ?? '')}`);
    });
    const dir = mkdtempSync(join(tmpdir(), 'relay-images-'));
    try {
      for (const target of TARGETS) {
        await buildah(
          [
            'bud',
            '--layers',
            '--pull=never',
            '--format',
            'docker',
            '--network',
            'host',
            ...npmBuildMounts(dir),
            '--target',
            target,
            '-t',
            imageOf(target),
            '-f',
            'Dockerfile',
            '.',
          ],
          20 * 60_000,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    process.stdout.write(`images built in ${Math.round((Date.now() - started) / 1000)} s\n`);

    ports.ingest = await freePort();
    ports.worker = await freePort();
    ports.sink = await freePort();
    const redis = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' };
    apps = {
      'jandi-sink': await startImage('jandi-sink', { PORT: String(ports.sink) }),
      ingest: await startImage('ingest', {
        ...redis,
        HOST: '127.0.0.1',
        PORT: String(ports.ingest),
        ADMIN_PORT: String(await freePort()),
      }),
      worker: await startImage('worker', {
        ...redis,
        JANDI_WEBHOOK_URL: `http://127.0.0.1:${ports.sink}/connect-api/webhook/1/local-sink`,
        ADMIN_PORT: String(ports.worker),
      }),
    };
  }, 45 * 60_000);

  afterAll(async () => {
    for (const { child } of running) {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    }
    await Promise.all(containers.map((c) => buildah(['rm', c]).catch(() => undefined)));
    await deletePrefix(TEST_REDIS_URL, prefix);
  });

  it('relays a Popbill fixture from the ingest image through Redis and the worker image to the sink image', async () => {
    const fixture = JSON.parse(
      readFileSync(join(POPBILL_FIXTURES, 'taxinvoice-issue.json'), 'utf8'),
    ) as {
      headers: Record<string, string>;
      body: { itemKey: string };
    };
    const health = [
      `http://127.0.0.1:${ports.sink}/health`,
      `http://127.0.0.1:${ports.ingest}/health/ready`,
      `http://127.0.0.1:${ports.worker}/health/ready`,
    ];
    for (const url of health)
      await waitFor(
        async () => {
          for (const [target, app] of Object.entries(apps))
            if (app.child.exitCode !== null) throw new Error(`${target} exited:\n${app.output()}`);
          return (await fetch(url).catch(() => null))?.status === 200;
        },
        60_000,
        url,
        200,
      );
    const response = await fetch(`http://127.0.0.1:${ports.ingest}/webhooks/popbill`, {
      method: 'POST',
      headers: {
        ...fixture.headers,
        'Content-Type': 'application/json',
        'Pb-Webhook-MID': `${prefix}-1`,
      },
      body: JSON.stringify(fixture.body),
    });
    expect(response.status).toBe(200);
    await waitFor(
      async () => {
        const messages = (await (
          await fetch(`http://127.0.0.1:${ports.sink}/messages`)
        ).json()) as unknown[];
        // The headline names the NTS confirmation number; the item key is one of the details.
        return messages.some((m) => JSON.stringify(m).includes(fixture.body.itemKey));
      },
      30_000,
      'the message at the sink',
      200,
    );
  }, 180_000);

  it.each(TARGETS)('%s: its HEALTHCHECK command passes inside the image', async (target) => {
    expect(await healthcheck(target)).toBe(0);
  });

  it('runs as the unprivileged node user, without dev tools; the sink without node_modules', async () => {
    for (const target of TARGETS)
      expect(await inImage(target, 'process.exit(process.getuid() === 1000 ? 0 : 1)')).toBe(0);
    for (const target of ['ingest', 'worker'] as const) {
      expect(await inImage(target, "require.resolve('bullmq')")).toBe(0);
      expect(await inImage(target, "require.resolve('typescript')")).not.toBe(0);
      expect(await inImage(target, "require.resolve('@nestjs/cli/package.json')")).not.toBe(0);
    }
    expect(
      await inImage('jandi-sink', "process.exit(require('fs').existsSync('node_modules') ? 1 : 0)"),
    ).toBe(0);
  });

  it('ends each app within 10 s of SIGTERM', async () => {
    // buildah run hands the signal to the app, as docker stop does with the init process.
    for (const target of TARGETS) {
      const { child } = apps[target];
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await expect(
        Promise.race([
          exited.then(() => 'exited'),
          new Promise((r) => setTimeout(() => r('still running'), 10_000)),
        ]),
      ).resolves.toBe('exited');
    }
  });

  afterAll(async () => {
    const sizes = await buildah(['images', '--format', '{{.Name}}:{{.Tag}}  {{.Size}}']);
    const wanted = [NODE_IMAGE.split(':')[0], 'popbill-jandi-relay'];
    process.stdout.write(
      `\nimage sizes:\n${sizes
        .split('\n')
        .filter((line) => wanted.some((w) => line.includes(w)))
        .join('\n')}\n`,
    );
  });
});
