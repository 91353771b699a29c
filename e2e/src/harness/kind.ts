// The runner's kind cluster: created by the CLI's own code (@trellis/cli createKindCluster), with
// the mesh images and the sample's loaded into its nodes. The sample names images the local
// provider maps to host programs (e2e/sample, packages/local-cluster/images.json); on kind they are
// Docker images built from deploy/images (and e2e/images/client), tagged with those names here.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  CLI_VERSION,
  createKindCluster,
  meshImages,
  missingImages,
  requireDocker,
} from '@trellis/cli';
import type { Kubectl } from '@trellis/local-cluster';
import { REPO } from './suite.js';
import { ISTIO_ECHO_IMAGE } from './sample.js';

/** The local base of deploy/images (deploy/images/base/build-base.sh), when Docker has it. */
const LOCAL_BASE = 'trellis/base:20.20.2';

const docker = (...args: string[]) => {
  const r = spawnSync('docker', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(`docker ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
};

/** Each name the suites run (left) and the image it stands for (right). */
export function sampleImages(version: string): [name: string, from: string][] {
  return [
    ['trellis/echo:latest', `trellis/e2e-echo:${version}`],
    [ISTIO_ECHO_IMAGE, `trellis/echo-advanced:${version}`],
    ['curlimages/curl:latest', `trellis/e2e-client:${version}`],
  ];
}

/** `docker build` of e2e/images/<dir> as `tag` when Docker lacks it. */
function buildWhenMissing(
  dir: string,
  tag: string,
  args: Record<string, string>,
  log: (l: string) => void,
) {
  if (!missingImages([tag]).length) return;
  log(`building ${tag} (e2e/images/${dir}) ${JSON.stringify(args)}`);
  const buildArgs = Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  docker(
    'build',
    '--network',
    'host',
    '--quiet',
    '--tag',
    tag,
    ...buildArgs,
    join(REPO, 'e2e/images', dir),
  );
}

/** Builds the client and echo stand-ins when missing and tags the sample's names; returns every
 * image to load. */
export function prepareKindImages(log: (l: string) => void): string[] {
  requireDocker();
  const version = CLI_VERSION;
  const echo = `trellis/echo:${version}`;
  if (missingImages([echo]).length)
    throw new Error(`${echo} is not in Docker: build it with deploy/images/build.sh`);
  const base: Record<string, string> = missingImages([LOCAL_BASE]).length
    ? {}
    : { BASE: LOCAL_BASE };
  buildWhenMissing('client', `trellis/e2e-client:${version}`, base, log);
  buildWhenMissing('echo', `trellis/e2e-echo:${version}`, { ECHO: echo }, log);
  const sample = sampleImages(version);
  const needed = [...meshImages(version), ...sample.map(([, from]) => from)];
  const missing = missingImages(needed);
  if (missing.length)
    throw new Error(
      `--provider kind needs these images in Docker: ${missing.join(', ')}; build them with deploy/images/build.sh (--base local on a host without a registry)`,
    );
  for (const [name, from] of sample) docker('tag', from, name);
  log(`sample images: ${sample.map(([name, from]) => `${name} = ${from}`).join(', ')}`);
  return [...meshImages(version), ...sample.map(([name]) => name)];
}

/** Creates the kind cluster with every image loaded; returns its kubeconfig path. */
export async function createE2eKindCluster(
  name: string,
  nodes: number,
  log: (l: string) => void,
): Promise<string> {
  const load = prepareKindImages(log);
  return (await createKindCluster({ name, nodes, load, log })).kubeconfig;
}

/** kind taints its control-plane node; the sample uses every node (as on a local cluster, where
 * every node takes pods), so the taint goes. */
export function untaintControlPlane(kubectl: Kubectl): void {
  for (const n of kubectl.getJson('nodes', '-l', 'node-role.kubernetes.io/control-plane').items)
    if (
      (n.spec.taints ?? []).some(
        (t: { key: string }) => t.key === 'node-role.kubernetes.io/control-plane',
      )
    )
      kubectl.run([
        'taint',
        'node',
        n.metadata.name,
        'node-role.kubernetes.io/control-plane:NoSchedule-',
      ]);
}
