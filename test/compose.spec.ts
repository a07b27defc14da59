import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseRoutesFile } from '../apps/worker/src/config/routes-file';
import { composeConfig, composeFile } from './support/compose';
import { REPO_ROOT } from './support/process';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

describe('docker-compose.yml and Dockerfile', () => {
  it('is valid for docker-compose (config -q)', async () => {
    await expect(composeConfig('', ['-q'])).resolves.toBeDefined();
  });

  it('hands all of .env to both apps, and runs without one', async () => {
    const { services } = composeFile();
    for (const name of ['ingest', 'worker']) {
      expect(services[name].env_file).toEqual([{ path: '.env', required: false }]);
    }
    const resolved = await composeConfig('JANDI_WEBHOOK_URL_ACCOUNTING=https://wh.jandi.com/x\n');
    expect(resolved.worker.environment?.JANDI_WEBHOOK_URL_ACCOUNTING).toBe(
      'https://wh.jandi.com/x',
    );
  });

  it('mounts ./config for the routes file, and ships a valid commented example', async () => {
    const { worker } = await composeConfig();
    expect(worker.volumes).toContain(`${join(REPO_ROOT, 'config')}:/app/config:ro`);
    expect(read('Dockerfile')).toMatch(/^WORKDIR \/app$/m);
    const example = JSON.parse(read('config/routes.example.json')) as { _comment: string[] };
    expect(example._comment.join(' ')).toContain('JANDI_ROUTES_FILE=config/routes.json');
    expect(parseRoutesFile(example).routes).toEqual([
      expect.objectContaining({ destination: 'accounting', stateCode: ['305'] }),
    ]);
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
    expect(services.ingest.ports).toEqual([
      { published: 3000, target: 3000 },
      '127.0.0.1:9101:9101/tcp',
    ]);
    for (const name of ['ingest', 'worker']) {
      expect(services[name].depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    }
    expect(services.ingest.healthcheck?.test.join(' ')).toContain(':3000/health/ready');
    expect(services.worker.healthcheck?.test.join(' ')).toContain(
      `:${services.worker.environment?.ADMIN_PORT}/health/ready`,
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
    const production = await composeConfig(
      'JANDI_WEBHOOK_URL=https://wh.jandi.com/connect-api/webhook/1/real\n',
    );
    expect(production.worker.environment?.JANDI_WEBHOOK_URL).toBe(
      'https://wh.jandi.com/connect-api/webhook/1/real',
    );
  });

  it('has a metrics profile: Prometheus scraping both admin ports, with the alert rules, and Grafana', async () => {
    const { prometheus, grafana, worker, ingest } = await composeConfig();
    expect(prometheus.profiles).toEqual(['metrics']);
    expect(prometheus.volumes).toContain(
      `${join(REPO_ROOT, 'deploy/prometheus')}:/etc/prometheus:ro`,
    );
    const config = parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    expect(existsSync(join(REPO_ROOT, 'deploy/prometheus/alerts.yml'))).toBe(true);
    const targets = Object.fromEntries(
      config.scrape_configs.map((job) => [job.job_name, job.dns_sd_configs[0]]),
    );
    expect(targets.ingest).toMatchObject({
      names: ['ingest'],
      port: Number(ingest.environment?.ADMIN_PORT),
    });
    expect(targets.worker).toMatchObject({
      names: ['worker'],
      port: Number(worker.environment?.ADMIN_PORT),
    });
    expect(grafana.profiles).toEqual(['metrics']);
    expect(grafana.volumes).toEqual([
      `${join(REPO_ROOT, 'deploy/grafana/provisioning')}:/etc/grafana/provisioning:ro`,
      `${join(REPO_ROOT, 'deploy/grafana/dashboards')}:/var/lib/grafana/dashboards:ro`,
    ]);
  });

  it('publishes admin ports on loopback only', async () => {
    const services = await composeConfig();
    for (const service of Object.values(services)) {
      for (const port of service.ports ?? []) {
        const text = typeof port === 'string' ? port : `${port.published}:${port.target}`;
        if (text !== '3000:3000') expect(text).toMatch(/^127\.0\.0\.1:/);
      }
    }
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
