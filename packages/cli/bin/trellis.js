#!/usr/bin/env node
// Launcher of `trellis`: runs the built CLI (dist/main.js). It is a committed file, so npm links
// the command when it installs the workspace, before anything is built (a bin pointing into dist/
// would be skipped then, and `npx trellis` would find no executable).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(
    'trellis: the CLI is not built yet; run `npm run build` in the repository root (or `npx nx build cli`)',
  );
  process.exit(1);
}
await import(main.href);
