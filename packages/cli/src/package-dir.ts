// Where the CLI package's files are: its dist/ directory, found from where the package's name
// resolves (dist/index.js) rather than from a module's own URL, because the `trellis` command runs
// the bundle (dist/bundle/trellis.mjs; tools/bundle.mjs), where its modules share one URL.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

export const CLI_DIST = dirname(createRequire(import.meta.url).resolve('@trellis/cli'));
