// A container's environment from its spec: literal values, downward API fieldRefs, ConfigMap and
// Secret keys, envFrom, plus the KUBERNETES_SERVICE_* variables the kubelet injects.
import { expandEnvRefs } from './images.pure.js';
import { divideQuantity } from './quantity.pure.js';
import type { Container } from './pod-spec.js';

/** The fields of a container that make its environment. */
type EnvSource = Pick<Container, 'env' | 'envFrom' | 'resources'>;

export interface PodFacts {
  name: string;
  namespace: string;
  uid: string;
  podIP: string;
  hostIP: string;
  nodeName: string;
  serviceAccountName: string;
  /** spec.hostname, when the pod sets one. */
  hostname?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Looks up `key` in a ConfigMap or Secret (decoded); undefined when absent. */
export type DataLookup = (
  kind: 'ConfigMap' | 'Secret',
  name: string,
) => Record<string, string> | undefined;

export function fieldRefValue(path: string, p: PodFacts): string {
  const sel = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (sel) return (sel[1] === 'labels' ? p.labels : p.annotations)[sel[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return p.name;
    case 'metadata.namespace':
      return p.namespace;
    case 'metadata.uid':
      return p.uid;
    case 'status.podIP':
    case 'status.podIPs':
      return p.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return p.hostIP;
    case 'spec.nodeName':
      return p.nodeName;
    case 'spec.serviceAccountName':
      return p.serviceAccountName;
    case 'metadata.labels':
      return Object.entries(p.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join('\n');
    case 'metadata.annotations':
      return Object.entries(p.annotations)
        .map(([k, v]) => `${k}="${v}"`)
        .join('\n');
    default:
      throw new Error(`unsupported fieldRef fieldPath "${path}"`);
  }
}

/**
 * The pod's hostname as the kubelet derives it: spec.hostname, else the pod name cut to 63
 * characters without trailing '-' or '.'.
 */
export function podHostname(p: Pick<PodFacts, 'name' | 'hostname'>): string {
  if (p.hostname) return p.hostname;
  return p.name.length <= 63 ? p.name : p.name.slice(0, 63).replace(/[-.]+$/, '');
}

/** The container's environment; `imageEnv` (the image's own) is overridden by what the pod sets. */
export function containerEnv(
  c: EnvSource,
  p: PodFacts,
  lookup: DataLookup,
  kubernetesService: { host: string; port: number },
  imageEnv: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ...imageEnv,
    HOSTNAME: podHostname(p),
    KUBERNETES_SERVICE_HOST: kubernetesService.host,
    KUBERNETES_SERVICE_PORT: String(kubernetesService.port),
    KUBERNETES_SERVICE_PORT_HTTPS: String(kubernetesService.port),
    KUBERNETES_PORT: `tcp://${kubernetesService.host}:${kubernetesService.port}`,
  };
  for (const from of c.envFrom ?? []) {
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) throw new Error('envFrom: neither configMapRef nor secretRef is set');
    const data = lookup(kind, ref.name);
    if (!data && !ref.optional) throw new Error(`${kind} ${ref.name} not found (envFrom)`);
    for (const [k, v] of Object.entries(data ?? {})) env[`${from.prefix ?? ''}${k}`] = v;
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expandEnvRefs(e.value ?? '', env);
      continue;
    }
    const vf = e.valueFrom;
    if (vf.fieldRef) env[e.name] = fieldRefValue(vf.fieldRef.fieldPath, p);
    else if (vf.resourceFieldRef)
      env[e.name] = divideQuantity(
        resourceValue(c, vf.resourceFieldRef.resource),
        vf.resourceFieldRef.divisor,
      );
    else if (vf.configMapKeyRef || vf.secretKeyRef) {
      const kind = vf.configMapKeyRef ? 'ConfigMap' : 'Secret';
      const ref = (vf.configMapKeyRef ?? vf.secretKeyRef)!;
      const v = lookup(kind, ref.name)?.[ref.key];
      if (v === undefined && !ref.optional)
        throw new Error(`${kind} ${ref.name} key ${ref.key} not found (env ${e.name})`);
      if (v !== undefined) env[e.name] = v;
    } else throw new Error(`env ${e.name}: unsupported valueFrom`);
  }
  return env;
}

/** The container's limit or request (limits default to the node's allocatable, as kubelet's). */
function resourceValue(c: EnvSource, resource: string): string {
  const [kind, name] = resource.split('.') as [string, string];
  const v: string | undefined =
    kind === 'limits' ? c.resources?.limits?.[name] : c.resources?.requests?.[name];
  if (v !== undefined) return v;
  return name === 'cpu' ? '2' : name === 'memory' ? String(4 * 1024 ** 3) : '0';
}
