// Plain Kubernetes objects as the CLI handles them: references, names, ordering for apply and
// delete.

// Objects of any kind, as JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KubeObject = any;

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
}

export function refOf(obj: KubeObject): ObjectRef {
  if (typeof obj?.apiVersion !== 'string' || typeof obj?.kind !== 'string')
    throw new Error(`an object without apiVersion/kind: ${JSON.stringify(obj).slice(0, 200)}`);
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name,
  };
}

/** Kind/namespace/name, as kubectl names objects: Deployment trellis-system/trellis-control-plane. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name ?? ''}`.trim();
}

/** A stable key for sets of objects. */
export function refKey(ref: ObjectRef): string {
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
  return `${group}/${ref.kind}/${ref.namespace ?? ''}/${ref.name ?? ''}`;
}

// Apply order: what others depend on first (CRDs, namespaces, identities and permissions, config),
// then workloads; delete in the reverse order.
const APPLY_ORDER = [
  'CustomResourceDefinition',
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'Service',
  'Deployment',
  'DaemonSet',
  'PodDisruptionBudget',
  'GatewayClass',
];

function rank(obj: KubeObject): number {
  const i = APPLY_ORDER.indexOf(obj.kind);
  return i === -1 ? APPLY_ORDER.length : i;
}

/** Objects in the order to apply them (stable within a kind). */
export function applyOrder(objects: readonly KubeObject[]): KubeObject[] {
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map(({ o }) => o);
}

/** Objects in the order to delete them: workloads first, namespaces and CRDs last. */
export function deleteOrder(objects: readonly KubeObject[]): KubeObject[] {
  return applyOrder(objects).reverse();
}

export function isCrd(obj: KubeObject): boolean {
  return obj?.kind === 'CustomResourceDefinition';
}
