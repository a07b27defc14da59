import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO_ROOT } from './support/process';

const run = promisify(execFile);
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

interface Service {
  build?: { context: string; target: string };
  image?: string;
  command?: string[];
  ports?: (string | { published: number; target: number })[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  profiles?: string[];
  container_name?: string;
  init?: boolean;
}

/** `docker-compose config` (Debian's docker-compose; .ci/run installs it), resolved. */
async function composeConfig(env: Record<string, string> = {}): Promise<Record<string, Service>> {
  const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    cwd: REPO_ROOT,
    // No .env from the developer's checkout: the defaults are what a newcomer gets.
    env: { PATH: process.env.PATH ?? '', COMPOSE_PROJECT_NAME: 'relay-test', ...env },
  });
  return (parse(stdout) as { services: Record<string, Service> }).services;
}

describe('docker-compose.yml and Dockerfile', () => {
  it('is valid for docker-compose (config -q)', async () => {
    await expect(
      run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: REPO_ROOT }),
    ).resolves.toBeDefined();
  });

  it('runs Redis with AOF, noeviction, a volume and a healthcheck', async () => {
    const { redis } = await composeConfig();
    const command = (redis.command ?? []).join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--appendfsync always');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(redis.volumes?.join(' ')).toMatch(/redis-data:\/data/);
    expect(redis.healthcheck?.test.join(' ')).toContain('redis-cli ping');
  });

  it('starts ingest and workers after Redis is healthy, each with a health check', async () => {
    const services = await composeConfig();
    expect(services.ingest.ports).toEqual([{ published: 3000, target: 3000 }]);
    for (const name of ['ingest', 'worker']) {
      expect(services[name].depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    }
    expect(services.ingest.healthcheck?.test.join(' ')).toContain(':3000/health/ready');
    expect(services.worker.healthcheck?.test.join(' ')).toContain(
      `:${services.worker.environment?.METRICS_PORT}/health/ready`,
    );
  });

  it('runs each app under an init process that forwards signals', async () => {
    const services = await composeConfig();
    for (const name of ['ingest', 'worker', 'jandi-sink']) expect(services[name].init).toBe(true);
  });

  it('lets workers scale: no container name, no host port', async () => {
    const { worker } = await composeConfig();
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
  });

  it('sends to the local sink without a JANDI URL, and to JANDI with one', async () => {
    const newcomer = await composeConfig();
    expect(newcomer.worker.environment?.JANDI_WEBHOOK_URL).toMatch(
      /^http:\/\/jandi-sink:8090\/connect-api\/webhook\//,
    );
    // The sink is for the newcomer's eyes: published on loopback only.
    expect(newcomer['jandi-sink'].ports).toEqual(['127.0.0.1:8090:8090/tcp']);
    const production = await composeConfig({
      JANDI_WEBHOOK_URL: 'https://wh.jandi.com/connect-api/webhook/1/real',
    });
    expect(production.worker.environment?.JANDI_WEBHOOK_URL).toBe(
      'https://wh.jandi.com/connect-api/webhook/1/real',
    );
  });

  it('has a metrics profile whose Prometheus scrapes both apps on their ports', async () => {
    const { prometheus, worker } = await composeConfig();
    expect(prometheus.profiles).toEqual(['metrics']);
    expect(existsSync(join(REPO_ROOT, 'deploy', 'prometheus.yml'))).toBe(true);
    const config = parse(read('deploy/prometheus.yml')) as {
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    const targets = Object.fromEntries(
      config.scrape_configs.map((job) => [job.job_name, job.dns_sd_configs[0]]),
    );
    expect(targets.ingest).toMatchObject({ names: ['ingest'], port: 3000 });
    expect(targets.worker).toMatchObject({
      names: ['worker'],
      port: Number(worker.environment?.METRICS_PORT),
    });
  });

  it('builds every compose target from a multi-stage, non-root Dockerfile with health checks', async () => {
    const dockerfile = read('Dockerfile');
    const services = await composeConfig();
    const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    for (const service of Object.values(services)) {
      if (service.build) expect(stages).toContain(service.build.target);
    }
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).not.toMatch(/npm install/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile.match(/^HEALTHCHECK /gm)).toHaveLength(3);
    expect(read('.dockerignore')).toMatch(/^node_modules$/m);
  });
});
