import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './support/process';

const tracked = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);

describe('a clone of the repository alone', () => {
  it('holds the Popbill fixtures in one place, test/fixtures/popbill', () => {
    const fixtureDirs = new Set(
      tracked
        .filter((file) => /(^|\/)fixtures\//.test(file))
        .map((file) => file.slice(0, file.indexOf('fixtures/') + 'fixtures'.length)),
    );
    expect([...fixtureDirs]).toEqual(['test/fixtures']);
  });

  it('has no code that reads files from beside the repository', () => {
    const outside = tracked
      .filter((file) => /\.(ts|js|mjs)$/.test(file))
      // Written as sh[a]red so that this line is not itself a read of that folder to a grep.
      .filter((file) => /REPO_ROOT, '\.\.'|'\.\.', 'sh[a]red'|\.\.\/sh[a]red\//.test(read(file)));
    expect(outside).toEqual([]);
  });
});

function read(file: string): string {
  return readFileSync(join(REPO_ROOT, file), 'utf8');
}
