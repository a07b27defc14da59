import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { metricNames, monitoringExpressions } from './support/monitoring';
import { REPO_ROOT } from './support/process';

const run = promisify(execFile);
const PROMETHEUS_DIR = join(REPO_ROOT, 'deploy', 'prometheus');

function promtoolMissing(): string | null {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'promtool not found (Debian: apt-get install prometheus)';
  }
}
const missing = promtoolMissing();
if (missing) process.stderr.write(`\nalert rule checks skipped: ${missing}\n\n`);

(missing ? describe.skip : describe)('alert rules, checked and unit-tested by promtool', () => {
  const promtool = (...args: string[]) => run('promtool', args, { cwd: PROMETHEUS_DIR });

  it('promtool check config (the rules included)', async () => {
    await expect(promtool('check', 'config', 'prometheus.yml')).resolves.toBeDefined();
  });

  it('promtool test rules', async () => {
    const { stdout } = await promtool('test', 'rules', 'alerts.test.yml');
    expect(stdout).toContain('SUCCESS');
  });
});

describe('alert rules and dashboard', () => {
  it('cover what an operator needs on day one', () => {
    const rules = parse(readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string }[] }[];
    };
    expect(rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort()).toEqual(
      [
        'IngestUnavailable',
        'JandiDestinationFailing',
        'JandiRateLimited',
        'RedisMemoryHigh',
        'RelayDeadLetter',
        'RelayEventsWaitingTooLong',
        'RelayNoIngest',
        'RelayNoWorker',
        'RelayTargetDown',
      ].sort(),
    );
  });

  it('read metric names the scanner finds (the scan itself works)', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le) (rate(relay_end_to_end_lag_seconds_bucket{a="b"}[5m]))) > 3 * max(up)',
      ),
    ).toEqual(['relay_end_to_end_lag_seconds_bucket', 'up']);
    expect(monitoringExpressions().length).toBeGreaterThan(15);
  });

  it('every dashboard panel uses the provisioned Prometheus datasource', () => {
    const datasource = parse(
      readFileSync(
        join(REPO_ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'),
        'utf8',
      ),
    ) as { datasources: { uid: string; url: string }[] };
    const dashboard = JSON.parse(
      readFileSync(join(REPO_ROOT, 'deploy/grafana/dashboards/relay.json'), 'utf8'),
    ) as { panels: { datasource: { uid: string } }[] };
    expect(datasource.datasources[0].url).toBe('http://prometheus:9090');
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid).toBe(datasource.datasources[0].uid);
    }
  });
});
