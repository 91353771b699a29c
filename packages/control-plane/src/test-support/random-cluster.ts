// Test support: random cluster snapshots and random changes of the kinds a cluster sees, from a
// seeded PRNG (so a failure names a reproducible seed and step), for the property tests of the
// incremental stages (derivation, translation, packing) against a full recompute.
import { toGateway, toGRPCRoute, toHTTPRoute } from '../ingest/convert/gateway-api.js';
import { toDestinationRule } from '../ingest/convert/istio-networking.js';
import {
  toAuthorizationPolicy,
  toPeerAuthentication,
  toRequestAuthentication,
} from '../ingest/convert/istio-security.js';
import type { Gateway, GRPCRoute, HTTPRoute } from '../model/gateway-api.js';
import type { DestinationRule } from '../model/istio-networking.js';
import type {
  AuthorizationPolicy,
  PeerAuthentication,
  RequestAuthentication,
} from '../model/istio-security.js';
import type {
  ClusterSnapshot,
  EndpointSlice,
  Namespace,
  Node,
  Pod,
  Service,
} from '../model/kube.js';
import { emptySnapshot } from '../model/kube.js';
import { keyOf } from '../collections/meta.js';

// A small random universe: few names, so that changes collide (a pod moves between services, a
// slice lists a pod that a selector also matches, a label names a waypoint that comes and goes).
export const NAMESPACES = ['a', 'b', 'c'];
export const APPS = ['web', 'db', 'cache'];
const NODES = ['n1', 'n2', 'n3'];

/** Deterministic PRNG (mulberry32), so a failure names a reproducible seed and step. */
export function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
export type Rng = ReturnType<typeof rng>;

export function makePod(r: Rng, ns: string, name: string): Pod {
  const labels: Record<string, string> = { app: r.pick(APPS) };
  if (r.chance(0.15)) labels['istio.io/use-waypoint'] = r.pick(['wp', 'none', 'missing']);
  if (r.chance(0.1)) labels['gateway.networking.k8s.io/gateway-name'] = 'wp';
  if (r.chance(0.1)) labels['istio.io/dataplane-mode'] = r.pick(['ambient', 'none']);
  const ready = r.chance(0.8);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels,
      ...(r.chance(0.05) ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      nodeName: r.pick(NODES),
      serviceAccountName: r.pick(['default', 'sa1']),
      containers: [
        { name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8000 + r.int(3) }] },
      ],
    },
    status: {
      phase: r.chance(0.05) ? 'Succeeded' : 'Running',
      ...(r.chance(0.9) ? { podIP: randomPodIP(r) } : {}),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

/** Mostly plain IPv4 (few enough that pods collide), sometimes IPv4-mapped IPv6 or not an IP. */
function randomPodIP(r: Rng): string {
  const ip = `10.0.${r.int(4)}.${r.int(250) + 1}`;
  if (r.chance(0.05)) return `::ffff:${ip}`;
  if (r.chance(0.03)) return r.pick(['999.1.2.3', 'not-an-ip']);
  return ip;
}

export function makeService(r: Rng, ns: string, name: string): Service {
  const labels: Record<string, string> = {};
  if (r.chance(0.2)) labels['istio.io/use-waypoint'] = r.pick(['wp', 'none']);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels },
    spec: {
      type: r.chance(0.1) ? 'ExternalName' : 'ClusterIP',
      clusterIP: `10.96.${r.int(4)}.${r.int(250) + 1}`,
      ...(r.chance(0.7) ? { selector: { app: r.pick(APPS) } } : {}),
      ports: [
        { name: 'http', port: 80, targetPort: r.chance(0.5) ? 'http' : 8080, protocol: 'TCP' },
        ...(r.chance(0.5) ? [{ name: 'grpc', port: 9090, targetPort: 9090, protocol: 'TCP' }] : []),
      ],
    },
  } as Service;
}

export function makeSlice(r: Rng, ns: string, name: string, pods: readonly Pod[]): EndpointSlice {
  const endpoints: NonNullable<EndpointSlice['endpoints']> = [];
  for (let i = r.int(4); i > 0; i--) {
    if (r.chance(0.7) && pods.length > 0) {
      const p = r.pick(pods);
      endpoints.push({
        addresses: [p.status?.podIP ?? '10.0.9.9'],
        targetRef: { kind: 'Pod', name: p.metadata!.name!, namespace: p.metadata!.namespace! },
      });
    } else {
      endpoints.push({
        addresses: [`192.168.0.${r.int(5) + 1}`],
        conditions: { ready: r.chance(0.7) },
      });
    }
  }
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: ns,
      labels: { 'kubernetes.io/service-name': r.pick(['s0', 's1', 's2', 's3']) },
    },
    addressType: 'IPv4',
    endpoints,
    ports: [{ name: r.pick(['http', 'grpc']), port: 8080, protocol: 'TCP' }],
  };
}

export function makeNamespace(r: Rng, name: string): Namespace {
  const labels: Record<string, string> = {};
  if (r.chance(0.6)) labels['istio.io/dataplane-mode'] = 'ambient';
  if (r.chance(0.2)) labels['istio.io/use-waypoint'] = 'wp';
  if (r.chance(0.5)) labels['team'] = r.pick(['x', 'y']);
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function makeNode(r: Rng, name: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: r.chance(0.7) ? { 'topology.kubernetes.io/zone': r.pick(['z1', 'z2']) } : {},
    },
  };
}

export function makeGateway(r: Rng, ns: string): Gateway {
  return toGateway({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: {
      name: 'wp',
      namespace: ns,
      labels: { 'istio.io/waypoint-for': r.pick(['service', 'workload', 'all']) },
    },
    spec: {
      gatewayClassName: 'trellis-waypoint',
      listeners: [
        {
          name: 'mesh',
          port: 15008,
          protocol: 'HBONE',
          allowedRoutes: {
            namespaces: r.pick([
              { from: 'Same' },
              { from: 'All' },
              { from: 'Selector', selector: { matchLabels: { team: 'x' } } },
            ]),
            ...(r.chance(0.2) ? { kinds: [{ kind: r.pick(['HTTPRoute', 'GRPCRoute']) }] } : {}),
          },
        },
      ],
    },
  });
}

export function makePolicy(r: Rng, ns: string, name: string): AuthorizationPolicy {
  return toAuthorizationPolicy({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: ns },
    spec: {
      ...(r.chance(0.7) ? { selector: { matchLabels: { app: r.pick(APPS) } } } : {}),
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/a/sa/default'] } }] }],
    },
  });
}

export function makePeerAuthentication(r: Rng, ns: string, name: string): PeerAuthentication {
  return toPeerAuthentication({
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name, namespace: ns },
    spec: {
      ...(r.chance(0.5) ? { selector: { matchLabels: { app: r.pick(APPS) } } } : {}),
      mtls: { mode: r.pick(['STRICT', 'PERMISSIVE']) },
    },
  });
}

/** JWT rules for the waypoint (by targetRef) or for the waypoint's pods (by selector). */
export function makeRequestAuthentication(r: Rng, ns: string, name: string): RequestAuthentication {
  return toRequestAuthentication({
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name, namespace: ns },
    spec: {
      ...(r.chance(0.5)
        ? { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'wp' }] }
        : { selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'wp' } } }),
      jwtRules: [{ issuer: `https://issuer-${r.int(3)}.example`, jwks: '{"keys":[]}' }],
    },
  });
}

/** A traffic policy for one of the services: balancing, consistent hashing or outlier detection. */
export function makeDestinationRule(r: Rng, ns: string, name: string): DestinationRule {
  return toDestinationRule({
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name, namespace: ns },
    spec: {
      host: `s${r.int(4)}`,
      trafficPolicy: r.pick([
        { loadBalancer: { simple: r.pick(['LEAST_REQUEST', 'RANDOM', 'PASSTHROUGH']) } },
        { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } },
        { outlierDetection: { consecutive5xxErrors: 1 + r.int(5), interval: '1s' } },
      ]),
    },
  });
}

function parentRef(r: Rng, ns: string): Record<string, unknown> {
  if (r.chance(0.3)) return { name: 'wp', namespace: r.pick(NAMESPACES) };
  const ref: Record<string, unknown> = { group: '', kind: 'Service', name: `s${r.int(4)}` };
  if (r.chance(0.3)) ref['namespace'] = r.pick(NAMESPACES.filter((n) => n !== ns));
  if (r.chance(0.2)) ref['port'] = r.pick([80, 9090, 81]);
  return ref;
}

function backendRefs(r: Rng): Record<string, unknown>[] {
  return Array.from({ length: r.int(3) }, () => ({
    name: `s${r.int(5)}`,
    ...(r.chance(0.2) ? { namespace: r.pick(NAMESPACES) } : {}),
    port: r.pick([80, 9090]),
    weight: r.int(3),
  }));
}

export function makeHTTPRoute(r: Rng, ns: string, name: string): HTTPRoute {
  return toHTTPRoute({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name,
      namespace: ns,
      ...(r.chance(0.2)
        ? { annotations: { 'fault.trellis.dev/abort': r.pick(['503', 'bogus']) } }
        : {}),
    },
    spec: {
      parentRefs: Array.from({ length: 1 + r.int(2) }, () => parentRef(r, ns)),
      ...(r.chance(0.2) ? { hostnames: [`s${r.int(4)}.${ns}`] } : {}),
      rules: Array.from({ length: 1 + r.int(2) }, () => ({
        matches: [
          { path: { type: r.pick(['PathPrefix', 'Exact', 'Bogus']), value: `/p${r.int(3)}` } },
        ],
        ...(r.chance(0.2)
          ? {
              filters: [
                r.pick([
                  { type: 'CORS' },
                  {
                    type: 'RequestHeaderModifier',
                    requestHeaderModifier: { add: [{ name: 'x', value: '1' }] },
                  },
                ]),
              ],
            }
          : {}),
        backendRefs: backendRefs(r),
      })),
    },
  });
}

export function makeGRPCRoute(r: Rng, ns: string, name: string): GRPCRoute {
  return toGRPCRoute({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: { name, namespace: ns },
    spec: {
      parentRefs: [parentRef(r, ns)],
      rules: [
        {
          matches: [{ method: { service: 'pkg.Svc', method: `M${r.int(2)}` } }],
          backendRefs: backendRefs(r),
        },
      ],
    },
  });
}

/** Replaces the item with the same `<namespace>/<name>` (or adds it); `undefined` removes it. Other items keep their identity. */
function put<T extends { metadata?: { name?: string; namespace?: string } }>(
  items: readonly T[],
  key: string,
  item: T | undefined,
  r: Rng,
): T[] {
  const at = items.findIndex((o) => keyOf(o) === key);
  const out = items.slice();
  if (at >= 0 && item) out[at] = item;
  else if (at >= 0) out.splice(at, 1);
  else if (item) out.splice(r.int(out.length + 1), 0, item);
  return out;
}

/** One random change, of the kinds a cluster sees. */
export function mutate(s: ClusterSnapshot, r: Rng): ClusterSnapshot {
  const ns = r.pick(NAMESPACES);
  const drop = r.chance(0.2);
  switch (r.int(16)) {
    case 14: {
      const ra = drop ? undefined : makeRequestAuthentication(r, ns, 'ra');
      return {
        ...s,
        requestAuthentications: put(s.requestAuthentications, `${ns}/ra`, ra, r),
      };
    }
    case 15: {
      const dr = drop ? undefined : makeDestinationRule(r, ns, 'dr');
      return { ...s, destinationRules: put(s.destinationRules, `${ns}/dr`, dr, r) };
    }
    case 12: {
      const key = `${ns}/r${r.int(3)}`;
      const route = drop ? undefined : makeHTTPRoute(r, ns, key.split('/')[1]!);
      return { ...s, httpRoutes: put(s.httpRoutes, key, route, r) };
    }
    case 13: {
      const key = `${ns}/g${r.int(2)}`;
      const route = drop ? undefined : makeGRPCRoute(r, ns, key.split('/')[1]!);
      return { ...s, grpcRoutes: put(s.grpcRoutes, key, route, r) };
    }
    case 0:
    case 1:
    case 2: {
      const key = `${ns}/p${r.int(6)}`;
      return {
        ...s,
        pods: put(s.pods, key, drop ? undefined : makePod(r, ns, key.split('/')[1]!), r),
      };
    }
    case 3: {
      // A pod replaced by an equal copy (a resync): nothing may change.
      if (s.pods.length === 0) return s;
      const i = r.int(s.pods.length);
      const pods = s.pods.slice();
      pods[i] = structuredClone(pods[i]!);
      return { ...s, pods };
    }
    case 4: {
      const key = `${ns}/s${r.int(4)}`;
      return {
        ...s,
        services: put(
          s.services,
          key,
          drop ? undefined : makeService(r, ns, key.split('/')[1]!),
          r,
        ),
      };
    }
    case 5:
    case 6: {
      const key = `${ns}/es${r.int(4)}`;
      const slice = drop ? undefined : makeSlice(r, ns, key.split('/')[1]!, s.pods);
      return { ...s, endpointSlices: put(s.endpointSlices, key, slice, r) };
    }
    case 7:
      return { ...s, namespaces: put(s.namespaces, `/${ns}`, makeNamespace(r, ns), r) };
    case 8: {
      const name = r.pick(NODES);
      return { ...s, nodes: put(s.nodes, `/${name}`, drop ? undefined : makeNode(r, name), r) };
    }
    case 9: {
      if (r.chance(0.5))
        return {
          ...s,
          authorizationPolicies: put(
            s.authorizationPolicies,
            `${ns}/ap`,
            drop ? undefined : makePolicy(r, ns, 'ap'),
            r,
          ),
        };
      const pa = drop ? undefined : makePeerAuthentication(r, ns, 'pa');
      return { ...s, peerAuthentications: put(s.peerAuthentications, `${ns}/pa`, pa, r) };
    }
    case 10:
      return {
        ...s,
        gateways: put(s.gateways, `${ns}/wp`, drop ? undefined : makeGateway(r, ns), r),
      };
    default: {
      // The informer hands its list in another order.
      const pods = s.pods.slice();
      for (let i = pods.length - 1; i > 0; i--) {
        const j = r.int(i + 1);
        [pods[i], pods[j]] = [pods[j]!, pods[i]!];
      }
      return { ...s, pods };
    }
  }
}

/** A snapshot with the test namespaces only. */
export function startingSnapshot(r: Rng): ClusterSnapshot {
  return { ...emptySnapshot(), namespaces: NAMESPACES.map((n) => makeNamespace(r, n)) };
}
