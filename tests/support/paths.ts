import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the repository and the CLI are, whether this file runs from tests/support (vitest) or from
 * build/tests/support (the bench, compiled by `npm run build`). The CLI is the bundle that ships.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const up = path.resolve(here, '../..');

export const REPO = existsSync(path.join(up, 'package.json')) ? up : path.resolve(up, '..');
export const CLI = path.join(REPO, 'dist/claude-relay.js');
/** The hook cases and the stand-in client of tests/fixtures/hooks. */
export const HOOK_FIXTURES = path.join(REPO, 'tests/fixtures/hooks');
