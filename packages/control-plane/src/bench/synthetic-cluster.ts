// A synthetic cluster for the scale benchmark: `pods` ambient pods spread evenly over `services`
// Deployments (one Service, one EndpointSlice and one ServiceAccount each), 20 services per
// namespace, 10 nodes and a few AuthorizationPolicies. `withPodChange` makes the next snapshot
// with one pod's readiness or IP flipped (and its EndpointSlice to match), as an informer would.
import { toAuthorizationPolicy } from '../ingest/convert/istio-security.js';
import type { AuthorizationPolicy } from '../model/istio-security.js';
import type {
  ClusterSnapshot,
  EndpointSlice,
  Namespace,
  Node,
  Pod,
  Service,
  ServiceAccount,
} from '../model/kube.js';
import { emptySnapshot } from '../model/kube.js';

export interface SyntheticClusterSize {
  readonly pods: number;
  readonly services: number;
}

const SERVICES_PER_NAMESPACE = 20;
const NODES = 10;

export function syntheticCluster({ pods, services }: SyntheticClusterSize): ClusterSnapshot {
  if (
    !Number.isInteger(pods) ||
    !Number.isInteger(services) ||
    pods < 1 ||
    services < 1 ||
    services > pods
  )
    throw new Error(
      `synthetic cluster: need integers 1 <= services <= pods (got pods=${pods}, services=${services})`,
    );
  if (pods > 65_000 || services > 65_000)
    throw new Error('synthetic cluster: at most 65000 pods and services (IP plan)');
  const namespaceCount = Math.ceil(services / SERVICES_PER_NAMESPACE);
  const namespaces: Namespace[] = Array.from({ length: namespaceCount }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespaceName(i), labels: { 'istio.io/dataplane-mode': 'ambient' } },
  }));
  namespaces.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
  const nodes: Node[] = Array.from({ length: NODES }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: `node-${i}`,
      labels: {
        'topology.kubernetes.io/region': 'region-a',
        'topology.kubernetes.io/zone': `zone-${i % 3}`,
      },
    },
  }));
  const podList: Pod[] = [];
  for (let i = 0; i < pods; i++) podList.push(makePod(i, services, podIp(i), true));
  const serviceList: Service[] = [];
  const accounts: ServiceAccount[] = [];
  const slices: EndpointSlice[] = [];
  for (let s = 0; s < services; s++) {
    const ns = namespaceName(Math.floor(s / SERVICES_PER_NAMESPACE));
    serviceList.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: serviceName(s), namespace: ns },
      spec: {
        clusterIP: serviceIp(s),
        clusterIPs: [serviceIp(s)],
        selector: { app: serviceName(s) },
        ports: [
          { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'grpc', port: 9090, targetPort: 9090, protocol: 'TCP' },
        ],
      },
    });
    accounts.push({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: serviceName(s), namespace: ns },
    });
    slices.push(
      makeSlice(
        s,
        podList.filter((_, i) => i % services === s),
      ),
    );
  }
  const policies: AuthorizationPolicy[] = [
    // Mesh-wide: deny from a namespace (root namespace, no selector).
    policy('istio-system', 'deny-sandbox', {
      action: 'DENY',
      rules: [{ from: [{ source: { namespaces: ['sandbox'] } }] }],
    }),
    // Namespace-wide ALLOW in the first namespace.
    policy(namespaceName(0), 'allow-in-mesh', {
      rules: [{ from: [{ source: { principals: ['cluster.local/*'] } }] }],
    }),
    // Selector policies on a few services.
    ...[0, 1, 2].map((s) =>
      policy(namespaceName(Math.floor(s / SERVICES_PER_NAMESPACE)), `allow-${serviceName(s)}`, {
        selector: { matchLabels: { app: serviceName(s) } },
        rules: [
          {
            from: [
              {
                source: {
                  principals: [`cluster.local/ns/${namespaceName(0)}/sa/${serviceName(s + 1)}`],
                },
              },
            ],
            to: [{ operation: { ports: ['8080'] } }],
          },
        ],
      }),
    ),
  ];
  return {
    ...emptySnapshot(),
    namespaces,
    nodes,
    pods: podList,
    services: serviceList,
    serviceAccounts: accounts,
    endpointSlices: slices,
    authorizationPolicies: policies,
  };
}

export type PodChange = 'readiness' | 'ip';

/**
 * The snapshot after step `step` (0, 1, ...): pod `(step * 7919) % pods` flips its Ready
 * condition on even steps and moves to another IP on odd steps; its EndpointSlice follows.
 */
export function withPodChange(
  cluster: ClusterSnapshot,
  step: number,
  services: number,
): { cluster: ClusterSnapshot; pod: string; change: PodChange } {
  const index = (step * 7919) % cluster.pods.length;
  const before = cluster.pods[index]!;
  const ready = before.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const change: PodChange = step % 2 === 0 ? 'readiness' : 'ip';
  const ip =
    change === 'ip'
      ? before.status?.podIP === podIp(index)
        ? movedPodIp(index)
        : podIp(index)
      : before.status!.podIP!;
  const pod = makePod(index, services, ip, change === 'readiness' ? !ready : ready);
  const pods = cluster.pods.slice();
  pods[index] = pod;
  const s = index % services;
  const endpointSlices = cluster.endpointSlices.slice();
  endpointSlices[s] = makeSlice(
    s,
    pods.filter((_, i) => i % services === s),
  );
  return {
    cluster: { ...cluster, pods, endpointSlices },
    pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`,
    change,
  };
}

function makePod(i: number, services: number, ip: string, ready: boolean): Pod {
  const s = i % services;
  const app = serviceName(s);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${app}-7d9f8c6b5-${String(i).padStart(5, '0')}`,
      namespace: namespaceName(Math.floor(s / SERVICES_PER_NAMESPACE)),
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      labels: { app, version: 'v1', 'pod-template-hash': '7d9f8c6b5' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${app}-7d9f8c6b5`,
          uid: `rs-${s}`,
          controller: true,
        },
      ],
    },
    spec: {
      nodeName: `node-${i % NODES}`,
      serviceAccountName: app,
      containers: [
        {
          name: 'app',
          image: 'app:1',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        },
      ],
    },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

function makeSlice(s: number, pods: readonly Pod[]): EndpointSlice {
  const ns = namespaceName(Math.floor(s / SERVICES_PER_NAMESPACE));
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${serviceName(s)}-abcde`,
      namespace: ns,
      labels: { 'kubernetes.io/service-name': serviceName(s) },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: pods.map((p) => ({
      addresses: [p.status!.podIP!],
      conditions: { ready: p.status!.conditions![0]!.status === 'True' },
      nodeName: p.spec!.nodeName!,
      targetRef: { kind: 'Pod', name: p.metadata!.name!, namespace: ns, uid: p.metadata!.uid! },
    })),
  };
}

function policy(namespace: string, name: string, spec: object): AuthorizationPolicy {
  return toAuthorizationPolicy({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace },
    spec,
  });
}

const namespaceName = (i: number) => `team-${String(i).padStart(3, '0')}`;
const serviceName = (s: number) => `svc-${String(s).padStart(4, '0')}`;
const podIp = (i: number) => `10.1.${i >> 8}.${i & 255}`;
const movedPodIp = (i: number) => `10.2.${i >> 8}.${i & 255}`;
const serviceIp = (s: number) => `10.96.${s >> 8}.${s & 255}`;
