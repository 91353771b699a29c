// kind clusters for `trellis cluster --provider kind` and `npm run e2e -- --provider kind`: the kind
// binary and the Docker CLI as processes. The plan (names, arguments, config) is kind-plan.pure.ts.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  chooseNodeImage,
  dockerUnreachable,
  kindConfig,
  kindCreateArgs,
  kindLoadArgs,
  kindNameProblem,
  kindNetwork,
  OFFLINE_NODE_IMAGE,
  parseKindClusters,
  pinnedKubernetesVersion,
} from './kind-plan.pure.js';
import { startKindLb, stopKindLb } from './kind-lb.js';
import { CLI_DIST } from '../package-dir.js';

/** The repository this CLI runs from (tools/ are there when it is a checkout). */
const REPO = resolve(CLI_DIST, '../../..');

export interface KindCreateOptions {
  readonly name: string;
  readonly nodes: number;
  /** The node image; default: the offline one when Docker has it, else kind's. */
  readonly image?: string | undefined;
  /** Docker images to load into every node once it runs. */
  readonly load: readonly string[];
  /** --lb-range: LoadBalancer addresses (default: the top of the kind network's subnet). */
  readonly lbRange?: string | undefined;
  readonly log: (line: string) => void;
}

export interface KindClusterInfo {
  readonly name: string;
  readonly nodes: number;
  readonly running: boolean;
  readonly kubeconfig: string;
}

/** Where `create` writes the cluster's kubeconfig (refreshed by `kubeconfig --path`). */
export function kindKubeconfigPath(name: string): string {
  return join(
    process.env['TRELLIS_KIND_KUBECONFIG_DIR'] ?? join(homedir(), '.kube'),
    `kind-${name}.yaml`,
  );
}

function run(
  cmd: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, maxBuffer: 64 << 20 });
}

function failed(what: string, r: SpawnSyncReturns<string>): Error {
  return new Error(
    `${what} failed (${r.error ? r.error.message : `exit ${r.status}`}): ${(r.stderr || r.stdout || '').trim()}`,
  );
}

/** Throws how to get one when no Docker engine answers. */
export function requireDocker(): void {
  const r = run('docker', ['version', '--format', '{{.Server.Version}}']);
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    throw new Error(dockerUnreachable('the docker command is not installed'));
  if (r.status !== 0) throw new Error(dockerUnreachable(r.stderr));
}

/** The kind binary: $TRELLIS_KIND, else this checkout's tools/kind build, else `kind` on PATH. */
export function kindBinary(): string {
  const fromEnv = process.env['TRELLIS_KIND'];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TRELLIS_KIND=${fromEnv}: no such file`);
    return fromEnv;
  }
  const goTool = join(REPO, 'tools/go-tool.sh');
  if (existsSync(join(REPO, 'tools/kind/programs'))) {
    const r = run(goTool, [join(REPO, 'tools/kind'), '--print-bin-dir']);
    const bin = join(r.stdout.trim(), 'kind');
    if (r.status === 0 && existsSync(bin)) return bin;
  }
  if (run('kind', ['version']).status === 0) return 'kind';
  throw new Error(
    'the kind binary is missing: build it with tools/go-tool.sh tools/kind (from its pinned Go module), or install kind (https://kind.sigs.k8s.io) on PATH, or set TRELLIS_KIND=/path/to/kind',
  );
}

function imagePresent(ref: string): boolean {
  return run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]).status === 0;
}

/** The images of `refs` Docker does not have. */
export function missingImages(refs: readonly string[]): string[] {
  return refs.filter((r) => !imagePresent(r));
}

/** The offline node image of the Kubernetes version this checkout pins, when it is a checkout. */
function offlineNodeImage(): string | undefined {
  const goMod = join(REPO, 'tools/kube/go.mod');
  if (!existsSync(goMod)) return undefined;
  const v = pinnedKubernetesVersion(readFileSync(goMod, 'utf8'));
  return v ? `${OFFLINE_NODE_IMAGE}:${v}` : undefined;
}

/** The cluster's Docker network: its own unless the caller picked one. */
function networkOf(name: string): string {
  return process.env['KIND_EXPERIMENTAL_DOCKER_NETWORK'] ?? kindNetwork(name);
}

/** kind's environment: the cluster's Docker network. */
function kindEnv(name: string): NodeJS.ProcessEnv {
  return { ...process.env, KIND_EXPERIMENTAL_DOCKER_NETWORK: networkOf(name) };
}

function checkName(name: string): void {
  const problem = kindNameProblem(name);
  if (problem) throw new Error(problem);
}

export function listKindClusters(): KindClusterInfo[] {
  requireDocker();
  const kind = kindBinary();
  const r = run(kind, ['get', 'clusters']);
  if (r.status !== 0) throw failed('kind get clusters', r);
  return parseKindClusters(r.stdout).map((name) => {
    const ps = run('docker', [
      'ps',
      '-a',
      '--filter',
      `label=io.x-k8s.kind.cluster=${name}`,
      '--format',
      '{{.State}}',
    ]);
    const states = ps.stdout.split('\n').filter(Boolean);
    return {
      name,
      nodes: states.length,
      running: states.length > 0 && states.every((s) => s === 'running'),
      kubeconfig: kindKubeconfigPath(name),
    };
  });
}

/** Creates the cluster, waits for every node Ready, loads `load`, starts the load-balancer
 * controller where this host can route to the nodes; returns the kubeconfig path. */
export async function createKindCluster(
  o: KindCreateOptions,
): Promise<{ kubeconfig: string; image: string; lbRange: string | undefined }> {
  checkName(o.name);
  requireDocker();
  const kind = kindBinary();
  const offline = offlineNodeImage();
  const choice = chooseNodeImage({
    flag: o.image,
    offline,
    offlinePresent: offline !== undefined && !o.image && imagePresent(offline),
  });
  if (o.image && !imagePresent(o.image))
    o.log(`node image ${o.image} is not in Docker: kind pulls it (this needs a registry)`);
  const missing = missingImages(o.load);
  if (missing.length)
    throw new Error(
      `the images to load are not in Docker: ${missing.join(', ')}; build them with deploy/images/build.sh (--base local on a host without a registry), or pass --load-images=false`,
    );
  const existing = run(kind, ['get', 'clusters']);
  if (parseKindClusters(existing.stdout).includes(o.name))
    throw new Error(
      `kind cluster ${o.name} exists already; trellis cluster delete --provider kind --name ${o.name}`,
    );

  const work = mkdtempSync(join(tmpdir(), `trellis-kind-${process.pid}-`));
  const kubeconfig = kindKubeconfigPath(o.name);
  mkdirSync(dirname(kubeconfig), { recursive: true });
  try {
    const config = join(work, 'cluster.yaml');
    writeFileSync(config, kindConfig(o.nodes));
    o.log(`node image: ${choice.image ?? 'kind default'} (${choice.why})`);
    const create = spawnSync(
      kind,
      kindCreateArgs({ name: o.name, config, kubeconfig, image: choice.image, wait: '5m' }),
      { stdio: ['ignore', 2, 2], env: kindEnv(o.name) },
    );
    if (create.status !== 0)
      throw new Error(
        `kind create cluster failed (exit ${create.status}); its output is above. Remove what is left: trellis cluster delete --provider kind --name ${o.name}`,
      );
    waitNodesReady(o.name);
    if (o.load.length) {
      o.log(`loading ${o.load.join(', ')} into the nodes`);
      loadKindImages(o.name, o.load);
    }
    const lbRange = await startKindLb({
      name: o.name,
      network: networkOf(o.name),
      kubeconfig,
      range: o.lbRange,
      log: o.log,
    }).catch((e: Error) => {
      throw new Error(
        `${e.message}; the cluster is up without its load-balancer controller: trellis cluster delete --provider kind --name ${o.name}, then create it again`,
      );
    });
    return { kubeconfig, image: choice.image ?? "kind's default", lbRange };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every node Ready (kind's --wait covers the control plane only). */
function waitNodesReady(name: string): void {
  const r = run('docker', [
    'exec',
    `${name}-control-plane`,
    'kubectl',
    '--kubeconfig=/etc/kubernetes/admin.conf',
    'wait',
    '--for=condition=Ready',
    'nodes',
    '--all',
    '--timeout=300s',
  ]);
  if (r.status !== 0) throw failed(`waiting for the nodes of ${name} to be Ready`, r);
}

/** `kind load docker-image` of `images` into every node of the cluster. */
export function loadKindImages(name: string, images: readonly string[]): void {
  const r = run(kindBinary(), kindLoadArgs(name, images), kindEnv(name));
  if (r.status !== 0) throw failed(`kind load docker-image ${images.join(' ')}`, r);
}

/** Deletes the cluster's load-balancer controller and routes, the cluster, its Docker network and
 * its kubeconfig file. */
export async function deleteKindCluster(
  name: string,
  log: (line: string) => void = () => {},
): Promise<void> {
  checkName(name);
  requireDocker();
  await stopKindLb(name);
  const kubeconfig = kindKubeconfigPath(name);
  const args = ['delete', 'cluster', '--name', name];
  if (existsSync(kubeconfig)) args.push('--kubeconfig', kubeconfig);
  const r = run(kindBinary(), args, kindEnv(name));
  if (r.status !== 0) throw failed('kind delete cluster', r);
  rmSync(kubeconfig, { force: true });
  const network = process.env['KIND_EXPERIMENTAL_DOCKER_NETWORK'] ? undefined : kindNetwork(name);
  if (network && run('docker', ['network', 'inspect', network]).status === 0) {
    const rm = run('docker', ['network', 'rm', network]);
    if (rm.status !== 0) log(`docker network ${network} kept: ${rm.stderr.trim()}`);
  }
  removeEmptyModulesDir(log);
}

/** kind mounts the host's /lib/modules into its nodes, and Docker creates it (empty) on a host
 * without one: removed again once no kind node is left, when still empty. */
function removeEmptyModulesDir(log: (line: string) => void): void {
  const dir = '/lib/modules';
  try {
    if (readdirSync(dir).length > 0) return;
  } catch {
    return;
  }
  const nodes = run('docker', ['ps', '-aq', '--filter', 'label=io.x-k8s.kind.cluster']);
  if (nodes.status !== 0 || nodes.stdout.trim()) return;
  try {
    rmdirSync(dir);
    log(`removed the empty ${dir} Docker made for kind's nodes`);
  } catch {
    // not ours to remove (permissions): left as it is
  }
}

/** The cluster's kubeconfig (kind's), also written to kindKubeconfigPath. */
export function kindKubeconfig(name: string): { path: string; text: string } {
  checkName(name);
  requireDocker();
  const r = run(kindBinary(), ['get', 'kubeconfig', '--name', name]);
  if (r.status !== 0) throw failed(`kind get kubeconfig --name ${name}`, r);
  const path = kindKubeconfigPath(name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, r.stdout, { mode: 0o600 });
  return { path, text: r.stdout };
}
