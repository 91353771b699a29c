// Bundles a component's compiled entry point and everything it imports into one ES module, the
// file its container runs. Unbundled, Node reads, parses and keeps the source of every module of
// the import graph (the waypoint's: ~960 files, 4.7 MB; the control plane's and ztunnel's: ~2,000
// files, ~22 MB, most of it dependencies' code never called). One tree-shaken file without
// whitespace (2.0-5.1 MB) starts faster and keeps less in memory. On the e2e cluster, same session,
// unbundled -> bundled: the idle mesh 1,046 -> 851 MiB resident (anonymous 654 -> 461; CNI agent
// 122 -> 75, control plane 145 -> 112, ztunnel ~328 -> ~294), `trellis install` Ready in 11.3 ->
// 6.9 s; the waypoint at 1,000 req/s 93-94 -> 85-86 MiB at the same CPU (bench, A/B twice).
// Bundling ztunnel's worker program too (its --workers processes, one per CPU by default): the
// idle mesh 851 -> 817 MiB (ztunnel 288/300 -> 276/277 MiB on the two nodes).
// Native addons (*.node) stay outside and are found through their package's name.
// With --split, modules the entry imports dynamically go to chunk files beside the output and load
// when first used (the CLI: `trellis --help` loads no Kubernetes client); the output's directory is
// the bundle's own and is emptied first.
//
//   node ../../tools/bundle.mjs dist/main.js dist/trellis-waypoint.mjs   (run in a package)
//   node ../../tools/bundle.mjs --split dist/main.js dist/bundle/trellis.mjs
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname } from 'node:path';
import process from 'node:process';

const args = process.argv.slice(2);
const split = args[0] === '--split';
const [entry, outfile] = split ? args.slice(1) : args;
if (!entry || !outfile) {
  process.stderr.write('usage: node tools/bundle.mjs [--split] <entry.js> <out.mjs>\n');
  process.exit(2);
}
if (split) rmSync(dirname(outfile), { recursive: true, force: true });
const esbuild = createRequire(import.meta.url)('esbuild');
esbuild.buildSync({
  ...(split
    ? {
        entryPoints: { [basename(outfile, extname(outfile))]: entry },
        outdir: dirname(outfile),
        splitting: true,
        chunkNames: 'chunk-[hash]',
        outExtension: { '.js': extname(outfile) },
      }
    : { entryPoints: [entry], outfile }),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // The ES module builds of dependencies that ship both, so unused exports are left out.
  mainFields: ['module', 'main'],
  // Whitespace and syntax only: identifiers keep their names, so functions and classes keep theirs
  // (esbuild's keepNames would instead wrap every function, a call each time a closure is made).
  minifyWhitespace: true,
  minifySyntax: true,
  external: ['*.node'],
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
  banner: {
    js: "import { createRequire as __trellisRequire } from 'node:module'; const require = __trellisRequire(import.meta.url);",
  },
});
