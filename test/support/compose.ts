import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './process';

const run = promisify(execFile);

export interface ComposeService {
  build?: { context: string; target: string };
  image?: string;
  command?: string[];
  ports?: (string | { published: number; target: number })[];
  volumes?: string[];
  environment?: Record<string, string>;
  env_file?: (string | { path: string; required?: boolean })[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  profiles?: string[];
  container_name?: string;
  init?: boolean;
}

/** docker-compose.yml as written, anchors merged. */
export function composeFile(): { services: Record<string, ComposeService> } {
  return parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
}

/**
 * `docker-compose config` (Debian's docker-compose 1.29; .ci/run installs it), resolved as if
 * `dotEnv` were the project's .env: read for interpolation and by every `env_file: .env`.
 * 1.29 predates env_file's `required: false` form, so those entries are handed to it as the
 * plain path of that file; everything else is the file as written.
 */
export async function composeConfig(
  dotEnv = '',
  args: string[] = [],
): Promise<Record<string, ComposeService>> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-compose-'));
  try {
    const envPath = join(dir, '.env');
    writeFileSync(envPath, dotEnv);
    const file = composeFile() as { services: Record<string, ComposeService> };
    for (const service of Object.values(file.services)) {
      service.env_file = service.env_file?.map((entry) =>
        typeof entry === 'object' && entry.path === '.env' ? envPath : entry,
      );
      if (!service.env_file) delete service.env_file;
    }
    const composePath = join(dir, 'docker-compose.yml');
    // YAML 1.1 quoting: compose's parser reads an unquoted yes as true.
    writeFileSync(composePath, stringify(file, { version: '1.1' }));
    const { stdout } = await run(
      'docker-compose',
      [
        '--project-directory',
        REPO_ROOT,
        '--env-file',
        envPath,
        '-f',
        composePath,
        'config',
        ...args,
      ],
      // Nothing from the developer's shell: the file and dotEnv are all compose sees.
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', COMPOSE_PROJECT_NAME: 'relay-test' } },
    );
    if (args.includes('-q')) return {};
    return (parse(stdout) as { services: Record<string, ComposeService> }).services;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
