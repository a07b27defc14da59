import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './process';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** Every PromQL expression of the alert rules and the Grafana dashboard, with where it is. */
export function monitoringExpressions(): { where: string; expr: string }[] {
  const rules = parse(read('deploy/prometheus/alerts.yml')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/relay.json')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  return [
    ...rules.groups.flatMap((g) =>
      g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
    ),
    ...dashboard.panels.flatMap((p) =>
      p.targets.map((t) => ({ where: `panel ${p.title}`, expr: t.expr })),
    ),
  ];
}

const NOT_METRICS = new Set([
  'by',
  'on',
  'and',
  'or',
  'unless',
  'without',
  'ignoring',
  'bool',
  'offset',
]);

/** Metric names an expression reads: identifiers that are not functions, keywords or labels. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|on|without|ignoring)\s*\([^)]*\)/g, '');
  const names = [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)].map((m) => m[1]);
  return [...new Set(names.filter((name) => !NOT_METRICS.has(name) && !/^\d/.test(name)))];
}
