// Copies the runtime closure of one workspace package out of an installed monorepo (after
// `npm ci --omit=dev`) into OUT, in the same layout, so Node resolves every import there as it
// does here: the package, its dependencies (and optional and peer ones) found the way Node finds
// them, transitively; workspace links kept as links next to their targets. Type declarations,
// source maps, TypeScript sources and Markdown are left out (nothing loads them at run time);
// licences stay.
//
//   node runtime-closure.mjs @trellis/ztunnel /out     (run in the monorepo's root)
//
// A component that runs one bundled file (tools/bundle.mjs) needs none of its dependencies' code:
// with --bundled, only the named packages are copied (their files and workspace links, no
// dependencies): the component's own, and those whose files the bundle finds by package name at
// run time (the netsys addon; ztunnel's worker and the CNI plugin are in their own packages).
//
//   node runtime-closure.mjs --bundled /out @trellis/ztunnel @trellis/netsys
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import process from 'node:process';

const args = process.argv.slice(2);
const bundled = args[0] === '--bundled';
const [out, ...names] = bundled ? args.slice(1) : [args[1], args[0]];
if (!out || names.length === 0 || names.some((n) => !n)) {
  process.stderr.write(
    'usage: node runtime-closure.mjs <package name> <output dir>\n' +
      '       node runtime-closure.mjs --bundled <output dir> <package name>...\n',
  );
  process.exit(2);
}
const root = process.cwd();
const DROP = /(\.d\.[cm]?ts|\.[cm]?ts|\.map|\.md|\.markdown)$/i;
const copied = new Set();
let files = 0;

/** Node's lookup of package `dep` from directory `from`: node_modules of it and each parent up to root. */
function lookup(dep, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', dep);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || !dir.startsWith(root + sep)) return undefined;
  }
}

function copyLink(path) {
  const target = join(out, relative(root, path));
  if (existsSync(target) || !lstatSync(path).isSymbolicLink()) return;
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(readlinkSync(path), target);
}

function visit(reached, requiredBy) {
  copyLink(reached);
  const dir = realpathSync(reached);
  if (copied.has(dir)) return;
  copied.add(dir);
  cpSync(dir, join(out, relative(root, dir)), {
    recursive: true,
    filter: (src) => {
      const rel = relative(dir, src);
      if (rel.split(sep).includes('node_modules')) return false;
      if (lstatSync(src).isFile()) {
        if (DROP.test(src)) return false;
        files++;
      }
      return true;
    },
  });
  if (bundled) return;
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const optional = new Set([
    ...Object.keys(pkg.optionalDependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ]);
  const deps = new Set([...Object.keys(pkg.dependencies ?? {}), ...optional]);
  for (const dep of [...deps].sort()) {
    const found = lookup(dep, dir);
    if (found) visit(found, pkg.name);
    else if (!optional.has(dep) && !pkg.peerDependenciesMeta?.[dep]?.optional)
      throw new Error(`${pkg.name} (needed by ${requiredBy}) depends on ${dep}, not installed`);
  }
}

for (const name of names) {
  const start = lookup(name, root);
  if (!start) throw new Error(`${name} is not installed in ${root}`);
  visit(start, 'the image');
}
process.stdout.write(`${names.join(' ')}: ${copied.size} packages, ${files} files\n`);
