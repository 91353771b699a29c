// Builds `dist/trellis-cni`, the CNI plugin as a Node.js single executable application, so it runs
// on nodes without Node.js: esbuild bundles the compiled plugin into one CommonJS file, Node writes
// the SEA blob (no snapshot, no code cache: the bytes depend only on the inputs), and postject
// injects it into a copy of this Node binary. Offline and reproducible: same inputs, same bytes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const work = join(here, 'dist/sea');
const out = join(here, 'dist/trellis-cni');
const require = createRequire(import.meta.url);
const esbuild = require('esbuild');

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const bundle = join(work, 'trellis-cni.cjs');
esbuild.buildSync({
  entryPoints: [join(here, 'dist/plugin/main.js')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: bundle,
  legalComments: 'none',
  logLevel: 'warning',
});
const config = join(work, 'sea-config.json');
writeFileSync(
  config,
  JSON.stringify({
    main: bundle,
    output: join(work, 'sea-prep.blob'),
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
  }),
);
execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'pipe' });
const tmp = `${out}.tmp`;
copyFileSync(process.execPath, tmp);
chmodSync(tmp, 0o755);
execFileSync(
  process.execPath,
  [
    require.resolve('postject/dist/cli.js'),
    tmp,
    'NODE_SEA_BLOB',
    join(work, 'sea-prep.blob'),
    '--sentinel-fuse',
    'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ],
  { stdio: 'pipe' },
);
rmSync(out, { force: true });
copyFileSync(tmp, out);
chmodSync(out, 0o755);
rmSync(tmp);
const sha = createHash('sha256').update(readFileSync(out)).digest('hex');
writeFileSync(`${out}.sha256`, `${sha}  trellis-cni\n`);
console.log(`trellis-cni: ${out} (sha256 ${sha.slice(0, 16)}…)`);
