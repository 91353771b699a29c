// `trellis cluster ... --provider kind`: what to run, decided without running anything. The kind
// binary, Docker and the files are kind.ts's business; here the names, arguments and kind's
// cluster config.

/** The images `trellis install` runs (the manifests' trellis/<component>:<tag>). */
export const MESH_COMPONENTS = ['control-plane', 'ztunnel', 'waypoint', 'cni'] as const;

/** Where the node image built offline (tools/kind-node/build.sh) lives, per Kubernetes version. */
export const OFFLINE_NODE_IMAGE = 'trellis/kind-node';

/** kind's own rule for cluster names (it becomes part of container and host names). */
const NAME = /^[a-z0-9]([a-z0-9.-]{0,48}[a-z0-9])?$/;

/** Why `name` is not a kind cluster name, or undefined when it is one. */
export function kindNameProblem(name: string): string | undefined {
  return NAME.test(name)
    ? undefined
    : `invalid cluster name "${name}": kind needs lower-case letters, digits, "." and "-", starting and ending with a letter or digit, at most 50 characters`;
}

/** The Docker network of a cluster: one per cluster, so deleting it leaves no network behind
 * (kind's shared default, "kind", outlives every cluster). */
export function kindNetwork(name: string): string {
  return `kind-${name}`;
}

/** kind's cluster config: one control-plane node and `nodes - 1` workers. */
export function kindConfig(nodes: number): string {
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error(`--nodes must be at least 1`);
  const roles = ['control-plane', ...Array<string>(nodes - 1).fill('worker')];
  return [
    'kind: Cluster',
    'apiVersion: kind.x-k8s.io/v1alpha4',
    'nodes:',
    ...roles.map((r) => `  - role: ${r}`),
    '',
  ].join('\n');
}

/** The Kubernetes version a go.mod pins (k8s.io/kubernetes), as the node image tags it. */
export function pinnedKubernetesVersion(goMod: string): string | undefined {
  return /^\s*k8s\.io\/kubernetes\s+(v\d+\.\d+\.\d+)\s*$/m.exec(goMod)?.[1];
}

export interface NodeImageChoice {
  /** The --image for kind, or undefined for kind's default (kindest/node, pulled). */
  readonly image: string | undefined;
  readonly why: string;
}

/** --image when given; else the offline node image of the pinned Kubernetes version when Docker
 * has it; else kind's default. */
export function chooseNodeImage(o: {
  readonly flag: string | undefined;
  readonly offline: string | undefined;
  readonly offlinePresent: boolean;
}): NodeImageChoice {
  if (o.flag) return { image: o.flag, why: '--image' };
  if (o.offline && o.offlinePresent)
    return { image: o.offline, why: 'built offline by tools/kind-node/build.sh' };
  return {
    image: undefined,
    why: o.offline
      ? `kind's default node image (pulled by Docker; ${o.offline} is not here: tools/kind-node/build.sh builds it)`
      : "kind's default node image (pulled by Docker)",
  };
}

/** The images loaded into the nodes: each mesh component at `tag`. */
export function meshImages(tag: string): string[] {
  return MESH_COMPONENTS.map((c) => `trellis/${c}:${tag}`);
}

/** `kind create cluster` arguments. */
export function kindCreateArgs(o: {
  readonly name: string;
  readonly config: string;
  readonly kubeconfig: string;
  readonly image: string | undefined;
  readonly wait: string;
}): string[] {
  return [
    'create',
    'cluster',
    '--name',
    o.name,
    '--config',
    o.config,
    '--kubeconfig',
    o.kubeconfig,
    '--wait',
    o.wait,
    ...(o.image ? ['--image', o.image] : []),
  ];
}

/** `kind load docker-image` arguments: every image in one call. */
export function kindLoadArgs(name: string, images: readonly string[]): string[] {
  return ['load', 'docker-image', '--name', name, ...images];
}

/** The lines of `kind get clusters` (it prints "No kind clusters found." on stderr when none). */
export function parseKindClusters(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && NAME.test(l));
}

/** The error for a Docker engine that does not answer, with how to get one. */
export function dockerUnreachable(detail: string): string {
  return [
    `the kind provider needs a running Docker engine, and none answers (${detail.trim() || 'no detail'})`,
    '  on a laptop: start Docker (Docker Desktop, or `systemctl start docker`)',
    '  on a host of this repo without Docker: tools/docker-here.sh start && eval "$(tools/docker-here.sh env)"',
  ].join('\n');
}
