// Where things are on this host: the monorepo, the kube binaries built by tools/kube/build.sh,
// the clusters' state directories.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';

// From where the package's name resolves (dist/index.js), not from this module's URL: the
// `trellis` CLI runs a bundle of its own that includes this module (tools/bundle.mjs).
export const REPO_ROOT = resolve(
  dirname(createRequire(import.meta.url).resolve('@trellis/local-cluster')),
  '../../..',
);
export const PACKAGE_ROOT = resolve(REPO_ROOT, 'packages/local-cluster');
export const BUILD_SCRIPT = resolve(REPO_ROOT, 'tools/kube/build.sh');
export const GO_TOOL_SCRIPT = resolve(REPO_ROOT, 'tools/go-tool.sh');
export const DEFAULT_IMAGE_MAP = resolve(PACKAGE_ROOT, 'images.json');
export const NODE_EMULATOR_MAIN = resolve(PACKAGE_ROOT, 'dist/node-emulator/main.js');
export const LB_CONTROLLER_MAIN = resolve(PACKAGE_ROOT, 'dist/lb-controller/main.js');
export const KUBE_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kubectl',
];

export function clustersDir(): string {
  return process.env.TRELLIS_CLUSTERS_DIR ?? '/var/lib/trellis/clusters';
}

/** The bin dir of tools/kube/build.sh (honours TRELLIS_KUBE_CACHE). */
export function kubeBinDir(): string {
  return execFileSync(BUILD_SCRIPT, ['--print-bin-dir'], { encoding: 'utf8' }).trim();
}

/** Throws a clear error naming the missing binaries and the build command. */
export function requireKubeBinaries(binDir = kubeBinDir()): string {
  const missing = KUBE_BINARIES.filter((b) => !existsSync(`${binDir}/${b}`));
  if (missing.length) {
    throw new Error(
      `kube binaries missing in ${binDir}: ${missing.join(', ')}; run tools/kube/build.sh (takes a while the first time)`,
    );
  }
  return binDir;
}

const toolDirs = new Map<string, string>();

/** The bin dir of Go tool tools/<name> (see tools/go-tool.sh), whether or not it is built. */
export function goToolBinDir(name: string): string {
  let dir = toolDirs.get(name);
  if (!dir) {
    dir = execFileSync(GO_TOOL_SCRIPT, [resolve(REPO_ROOT, 'tools', name), '--print-bin-dir'], {
      encoding: 'utf8',
    }).trim();
    toolDirs.set(name, dir);
  }
  return dir;
}

/** Like goToolBinDir, but throws the build command when the tool has not been built. */
export function builtGoTool(name: string): string {
  if (!existsSync(resolve(REPO_ROOT, 'tools', name, 'programs')))
    throw new Error(`there is no Go tool tools/${name}`);
  const dir = goToolBinDir(name);
  if (!existsSync(dir))
    throw new Error(`Go tool ${name} is not built; run tools/go-tool.sh tools/${name}`);
  return dir;
}
