#!/usr/bin/env node
// Launcher of `trellis`: runs the built CLI, bundled at build time (dist/bundle/trellis.mjs and
// the chunks it loads when needed; tools/bundle.mjs --split): `trellis status` starts in about a
// third of the time dist/main.js and the modules it imports take. It is a committed file, so npm
// links the command when it installs the workspace, before anything is built (a bin pointing into
// dist/ would be skipped then, and `npx trellis` would find no executable).
import { existsSync } from 'node:fs';

const main = new URL('../dist/bundle/trellis.mjs', import.meta.url);
if (!existsSync(main)) {
  console.error(
    'trellis: the CLI is not built yet; run `npm run build` in the repository root (or `npx nx build cli`)',
  );
  process.exit(1);
}
await import(main.href);
