import { join } from 'node:path';
import { REPO_ROOT } from './process';

/** The sample Popbill webhooks (one JSON file each); every test and bench reads them from here. */
export const POPBILL_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'popbill');
