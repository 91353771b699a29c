// deploy/ objects + profile + --set values -> the objects `trellis install` applies. Pure: the
// objects come in (from kustomize.ts) and go out changed copies.
import type { KubeObject } from '../kube/objects.pure.js';
import { componentsEnabled, type Profile, type Values } from './values.pure.js';

export const NAMESPACE = 'trellis-system';
export const PART_OF = 'app.kubernetes.io/part-of';
export const COMPONENT = 'app.kubernetes.io/component';
export const VERSION_LABEL = 'app.kubernetes.io/version';
/** Selects every object an install created. */
export const INSTALL_SELECTOR = `${PART_OF}=trellis`;

export interface RenderOptions {
  readonly profile: Profile;
  readonly values: Values;
  /** The version of this CLI: default image tag and the version label. */
  readonly version: string;
}

export function renderManifests(objects: readonly KubeObject[], o: RenderOptions): KubeObject[] {
  const v = o.values;
  const enabled = componentsEnabled(o.profile, v);
  const tag = (v['images.tag'] as string | undefined) ?? o.version;
  const registry = v['images.registry'] as string | undefined;
  const image = (current: string) => {
    const m = /^(?:.*\/)?trellis\/([a-z0-9-]+)(?::[^/]*)?$/.exec(current);
    return m ? `${registry ? `${registry}/` : ''}trellis/${m[1]}:${tag}` : current;
  };

  const out: KubeObject[] = [];
  for (const original of objects) {
    const component = original.metadata?.labels?.[COMPONENT];
    if (component === 'ztunnel' && !enabled.ztunnel) continue;
    if (component === 'cni' && !enabled.cni) continue;
    const obj = structuredClone(original);
    obj.metadata.labels = { ...obj.metadata.labels, [VERSION_LABEL]: tag };

    for (const c of containersOf(obj)) {
      c.image = image(c.image);
      if (v['images.pullPolicy']) c.imagePullPolicy = v['images.pullPolicy'];
      setEnv(c, 'WAYPOINT_IMAGE', (e) => image(e));
      if (v['trustDomain']) setEnv(c, 'TRUST_DOMAIN', () => v['trustDomain'] as string);
      if (v['clusterId']) setEnv(c, 'CLUSTER_ID', () => v['clusterId'] as string);
      if (v['logLevel']) setEnv(c, 'LOG_LEVEL', () => v['logLevel'] as string);
    }

    if (obj.kind === 'Deployment' && component === 'control-plane') {
      if (v['controlPlane.replicas'] !== undefined) obj.spec.replicas = v['controlPlane.replicas'];
      if (v['tracing.otlpEndpoint'])
        addEnv(
          obj.spec.template.spec.containers[0],
          'WAYPOINT_OTLP_ENDPOINT',
          v['tracing.otlpEndpoint'] as string,
        );
      if (v['controlPlane.plaintextXds'] === false) {
        const c = obj.spec.template.spec.containers[0];
        setEnv(c, 'XDS_ADDRESS', () => 'off');
        c.ports = c.ports.filter((p: KubeObject) => p.containerPort !== 15010);
      }
    }
    if (
      obj.kind === 'Service' &&
      component === 'control-plane' &&
      v['controlPlane.plaintextXds'] === false
    )
      obj.spec.ports = obj.spec.ports.filter((p: KubeObject) => p.port !== 15010);

    if (obj.kind === 'DaemonSet' && component === 'ztunnel' && v['ztunnel.workers'] !== undefined)
      addEnv(
        obj.spec.template.spec.containers[0],
        'ZTUNNEL_WORKER_THREADS',
        String(v['ztunnel.workers']),
      );

    if (component === 'cni') {
      const confDir = v['cni.confDir'] as string | undefined;
      const binDir = v['cni.binDir'] as string | undefined;
      if (obj.kind === 'ConfigMap') {
        if (confDir) obj.data.CNI_NET_DIR = confDir;
        if (v['cni.excludeNamespaces']) obj.data.EXCLUDE_NAMESPACES = v['cni.excludeNamespaces'];
        if (v['logLevel']) obj.data.LOG_LEVEL = v['logLevel'];
      }
      if (obj.kind === 'DaemonSet')
        for (const vol of obj.spec.template.spec.volumes ?? []) {
          if (vol.name === 'cni-net-dir' && confDir) vol.hostPath.path = confDir;
          if (vol.name === 'cni-bin-dir' && binDir) vol.hostPath.path = binDir;
        }
    }
    out.push(obj);
  }
  out.push(installRecord(o, tag));
  return out;
}

/** The ConfigMap that records how Trellis was installed, read by status and the next install. */
export const INSTALL_RECORD = 'trellis-install';

function installRecord(o: RenderOptions, tag: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: INSTALL_RECORD,
      namespace: NAMESPACE,
      labels: { [PART_OF]: 'trellis', [COMPONENT]: 'install', [VERSION_LABEL]: tag },
    },
    data: {
      version: o.version,
      profile: o.profile,
      values: JSON.stringify(o.values),
    },
  };
}

/** Profile and values from an install record ConfigMap; undefined when it is absent or unreadable. */
export function readInstallRecord(
  cm: KubeObject | undefined,
): { profile: Profile; values: Values } | undefined {
  if (!cm?.data?.profile) return undefined;
  try {
    return {
      profile: cm.data.profile as Profile,
      values: JSON.parse(cm.data.values ?? '{}') as Values,
    };
  } catch {
    return undefined;
  }
}

/** Containers (and init containers) of a workload's pod template. */
export function containersOf(obj: KubeObject): KubeObject[] {
  const spec = obj?.spec?.template?.spec;
  if (!spec) return [];
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

function setEnv(container: KubeObject, name: string, value: (current: string) => string): void {
  for (const e of container.env ?? [])
    if (e.name === name && typeof e.value === 'string') e.value = value(e.value);
}

function addEnv(container: KubeObject, name: string, value: string): void {
  container.env = [
    ...(container.env ?? []).filter((e: KubeObject) => e.name !== name),
    { name, value },
  ];
}

/** The workloads (Deployments, DaemonSets) among rendered objects. */
export function workloadsOf(objects: readonly KubeObject[]): KubeObject[] {
  return objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
}
