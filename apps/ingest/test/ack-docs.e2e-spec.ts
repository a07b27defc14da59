import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../test/support/process';
import { loadFixtures, startIngest } from './ingest-harness';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** The acknowledgement bodies as .env.example's ACK_FORMAT comment states them. */
function documentedAcks(): Record<'text' | 'json', string> {
  const comment = /^# text \("(.+?)"\) or json \((.+?)\) acknowledgement body$/m.exec(
    read('.env.example'),
  );
  if (!comment) throw new Error('.env.example no longer documents ACK_FORMAT as expected');
  return { text: comment[1], json: comment[2] };
}

describe('the acknowledgement bodies the docs state (e2e)', () => {
  const issue = loadFixtures().find((f) => f.name === 'taxinvoice-issue.json')!;

  it.each(['text', 'json'] as const)(
    'ACK_FORMAT=%s answers what .env.example and the README say',
    async (format) => {
      const documented = documentedAcks()[format];
      expect(read('README.md')).toContain(`\`${format}\` (\`${documented}\`)`);
      const ingest = await startIngest({ ACK_FORMAT: format });
      try {
        const response = await ingest.post(issue.body, {
          ...issue.headers,
          'Pb-Webhook-MID': `ack-${format}`,
        });
        expect(response.status).toBe(200);
        expect(await response.text()).toBe(documented);
      } finally {
        await ingest.close();
      }
    },
  );
});
