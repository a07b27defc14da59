import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JandiStandin } from '@app/jandi-standin';
import { POPBILL_FIXTURES } from './support/fixtures';
import { freePort, startApp, waitFor, type RunningApp } from './support/process';

const run = promisify(execFile);
const HOOK = '/connect-api/webhook/1/cluster-test';

/** Three cluster-enabled redis-servers on loopback, each in its own directory. */
class LocalCluster {
  private readonly children: ChildProcess[] = [];
  private readonly dirs: string[] = [];
  ports: number[] = [];

  async start(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      // Cluster nodes also listen on port + 10000 (the bus): pick ports where both are free.
      let port = await freePort();
      while (port > 55_000) port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'relay-cluster-'));
      this.dirs.push(dir);
      this.ports.push(port);
      this.children.push(
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, 'nodes.conf'),
            '--dir',
            dir,
            '--save',
            '',
            '--appendonly',
            'no',
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (const port of this.ports) {
      await waitFor(
        async () => (await this.cli(port, 'ping').catch(() => '')).trim() === 'PONG',
        10_000,
        `redis-server on ${port}`,
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...this.ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await waitFor(
      async () => {
        const states = await Promise.all(
          this.ports.map((port) => this.cli(port, 'cluster', 'info')),
        );
        return states.every((info) => info.includes('cluster_state:ok'));
      },
      20_000,
      'cluster_state:ok on every node',
      100,
    );
  }

  get nodes(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  async cli(port: number, ...args: string[]): Promise<string> {
    return (await run('redis-cli', ['-p', String(port), ...args])).stdout;
  }

  stop(): void {
    for (const child of this.children) child.kill('SIGKILL');
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

describe('ingest → worker → JANDI through a 3-master Redis Cluster', () => {
  const cluster = new LocalCluster();
  const standin = new JandiStandin();
  const apps: RunningApp[] = [];
  let ingestUrl: string;

  beforeAll(async () => {
    await cluster.start();
    await standin.listen();
    const redisEnv = { REDIS_CLUSTER_NODES: cluster.nodes, QUEUE_PREFIX: '{relay}' };
    const ingestPort = await freePort();
    ingestUrl = `http://127.0.0.1:${ingestPort}`;
    apps.push(
      await startApp(
        'ingest',
        { ...redisEnv, HOST: '127.0.0.1', PORT: String(ingestPort), LOG_LEVEL: 'warn' },
        `${ingestUrl}/health/ready`,
      ),
    );
    const metricsPort = await freePort();
    apps.push(
      await startApp(
        'worker',
        {
          ...redisEnv,
          JANDI_WEBHOOK_URL: standin.url(HOOK),
          METRICS_PORT: String(metricsPort),
          LOG_LEVEL: 'warn',
        },
        `http://127.0.0.1:${metricsPort}/health/ready`,
      ),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await standin.close();
    cluster.stop();
  });

  it('refuses a prefix without a hash tag at boot', async () => {
    await expect(
      startApp(
        'worker',
        {
          REDIS_CLUSTER_NODES: cluster.nodes,
          QUEUE_PREFIX: 'relay',
          JANDI_WEBHOOK_URL: standin.url(HOOK),
        },
        'http://127.0.0.1:1/health/ready',
        5_000,
      ),
    ).rejects.toThrow(/QUEUE_PREFIX: must contain a \{hash tag\} with Redis Cluster/);
  });

  it('stores each webhook once and delivers it to JANDI', async () => {
    const files = ['taxinvoice-issue.json', 'statement-issue.json', 'cashbill-nts-failed.json'];
    for (const file of files) {
      const fixture = JSON.parse(readFileSync(join(POPBILL_FIXTURES, file), 'utf8')) as {
        headers: Record<string, string>;
        body: unknown;
      };
      for (let copy = 0; copy < 2; copy++) {
        const response = await fetch(`${ingestUrl}/webhooks/popbill`, {
          method: 'POST',
          headers: fixture.headers,
          body: JSON.stringify(fixture.body),
        });
        expect(response.status).toBe(200);
      }
    }
    await waitFor(
      () => standin.acceptedFor(HOOK).length >= files.length,
      20_000,
      'every event at the JANDI stand-in',
    );
    // The re-sent copies were refused by ingest, so nothing arrives twice.
    expect(standin.acceptedFor(HOOK)).toHaveLength(files.length);

    // Queue, dedupe and limiter keys all live on the one node owning the {relay} slot.
    const keysPerNode = await Promise.all(
      cluster.ports.map(async (port) =>
        (await cluster.cli(port, '--scan')).split('\n').filter(Boolean),
      ),
    );
    const holding = keysPerNode.filter((keys) => keys.length > 0);
    expect(holding).toHaveLength(1);
    expect(holding[0].filter((key) => !key.startsWith('{relay}:'))).toEqual([]);
    expect(holding[0]).toEqual(expect.arrayContaining([expect.stringMatching(/jandi-quota/)]));
  });
});
