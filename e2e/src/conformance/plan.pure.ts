// What the conformance runner asks of the suite: which of the requested profiles can run on this
// installation, with which supported features, and how the mesh namespaces are enrolled. Pure.

import { parseAllDocuments } from 'yaml';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type KubeObject = any;

/** The namespaces of the suite's base manifests (gateway profiles) that its mesh setup also waits
 * for (v1.6.1: kubernetes-sigs/gateway-api#4934, fixed in v1.6.3, whose suite needs the v1.6.3
 * CRDs). */
export const GATEWAY_BACKEND_NAMESPACES: readonly string[] = [
  'gateway-conformance-app-backend',
  'gateway-conformance-web-backend',
];

/**
 * The objects of the suite's base manifests (`base/manifests.yaml`) that live in the backend
 * namespaces, those namespaces included, with the namespace labels the suite would add, except
 * Deployments that mount a Secret of the gateway setup: what a mesh-only run applies itself so
 * that the suite's mesh setup does not wait for them in vain.
 */
export function backendNamespaceObjects(baseManifests: string): KubeObject[] {
  const inBackend = (o: KubeObject) =>
    GATEWAY_BACKEND_NAMESPACES.includes(
      o?.kind === 'Namespace' ? o?.metadata?.name : o?.metadata?.namespace,
    );
  // A Deployment mounting a Secret needs one the gateway setup creates; without it, its pod
  // never starts and the wait would fail instead.
  const needsGatewaySecret = (o: KubeObject) =>
    (o?.spec?.template?.spec?.volumes ?? []).some((v: KubeObject) => v?.secret);
  const objects = parseAllDocuments(baseManifests)
    .map((d) => d.toJS() as KubeObject)
    .filter((o) => inBackend(o) && !needsGatewaySecret(o));
  if (!GATEWAY_BACKEND_NAMESPACES.every((n) => objects.some((o) => o.metadata.name === n)))
    throw new Error(
      `the base manifests lack the namespaces ${GATEWAY_BACKEND_NAMESPACES.join(', ')}`,
    );
  return objects.map((o) =>
    o.kind === 'Namespace'
      ? { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...NAMESPACE_LABELS } } }
      : o,
  );
}

/** The namespace and name of the one waypoint every conformance namespace's services use. */
export const CONFORMANCE_WAYPOINT = { namespace: 'trellis-conformance', name: 'waypoint' } as const;

/** Labels the suite puts on every namespace it creates (its -namespace-labels): enrolled in
 * ambient mode, services through the shared waypoint. */
export const NAMESPACE_LABELS: Readonly<Record<string, string>> = {
  'istio.io/dataplane-mode': 'ambient',
  'istio.io/use-waypoint': CONFORMANCE_WAYPOINT.name,
  'istio.io/use-waypoint-namespace': CONFORMANCE_WAYPOINT.namespace,
};

/** The shared waypoint: a Gateway of class trellis-waypoint whose HBONE listener admits services
 * of every namespace (the conformance namespaces come and go with the suite). */
export function conformanceWaypoint(): KubeObject[] {
  const { namespace, name } = CONFORMANCE_WAYPOINT;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name, namespace, labels: { 'istio.io/waypoint-for': 'service' } },
      spec: {
        gatewayClassName: 'trellis-waypoint',
        listeners: [
          {
            name: 'mesh',
            port: 15008,
            protocol: 'HBONE',
            allowedRoutes: { namespaces: { from: 'All' } },
          },
        ],
      },
    },
  ];
}

export interface RunPlan {
  /** Profiles to pass to the suite. */
  readonly profiles: readonly string[];
  /** Requested profiles that cannot run here, and why. */
  readonly notRunnable: readonly { readonly profile: string; readonly reason: string }[];
  /** The suite's -supported-features, sorted. */
  readonly supportedFeatures: readonly string[];
  /** Where the features came from, for the log. */
  readonly featureSources: readonly string[];
}

const isGatewayProfile = (p: string) => p.startsWith('GATEWAY-');

/** Each profile's core features (the suite's profiles.go, v1.6.1): --core-only declares these. */
export const PROFILE_CORE_FEATURES: Readonly<Record<string, readonly string[]>> = {
  'GATEWAY-HTTP': ['Gateway', 'ReferenceGrant', 'HTTPRoute'],
  'GATEWAY-GRPC': ['Gateway', 'ReferenceGrant', 'GRPCRoute'],
  'GATEWAY-TLS': ['Gateway', 'ReferenceGrant', 'TLSRoute'],
  'GATEWAY-TCP': ['Gateway', 'ReferenceGrant', 'TCPRoute'],
  'GATEWAY-UDP': ['Gateway', 'ReferenceGrant', 'UDPRoute'],
  'MESH-HTTP': ['Mesh', 'HTTPRoute'],
  'MESH-GRPC': ['Mesh', 'GRPCRoute'],
};

/** Why the ingress GatewayClass cannot carry the GATEWAY-* profiles, if it cannot. */
export function gatewayClassProblem(
  gatewayClass: KubeObject | undefined,
  name: string,
): string | undefined {
  if (!gatewayClass) return `GatewayClass ${name} not found (the ingress gateway is not installed)`;
  const accepted = (gatewayClass.status?.conditions ?? []).find(
    (c: KubeObject) => c.type === 'Accepted',
  );
  if (accepted?.status !== 'True')
    return `GatewayClass ${name} is not Accepted${accepted?.message ? `: ${accepted.message}` : ' (no status: is its controller running?)'}`;
  return undefined;
}

/**
 * The run: GATEWAY-* profiles only when the ingress GatewayClass exists and is Accepted; features
 * are the GatewayClass's `status.supportedFeatures` (for gateway profiles) joined with the mesh
 * features the control plane declares (for mesh profiles).
 */
export function planRun(
  requested: readonly string[],
  gatewayClassName: string,
  gatewayClass: KubeObject | undefined,
  meshFeatures: readonly string[],
  coreOnly = false,
): RunPlan {
  const notRunnable: { profile: string; reason: string }[] = [];
  const profiles: string[] = [];
  const problem = gatewayClassProblem(gatewayClass, gatewayClassName);
  for (const p of requested) {
    if (isGatewayProfile(p) && problem) notRunnable.push({ profile: p, reason: problem });
    else profiles.push(p);
  }
  const features = new Set<string>();
  const sources: string[] = [];
  if (profiles.some(isGatewayProfile)) {
    const listed = (gatewayClass.status?.supportedFeatures ?? [])
      .map((f: KubeObject) => (typeof f === 'string' ? f : f?.name))
      .filter((f: unknown): f is string => typeof f === 'string' && f !== '');
    for (const f of listed) features.add(f);
    sources.push(`GatewayClass ${gatewayClassName} status.supportedFeatures (${listed.length})`);
  }
  if (profiles.some((p) => !isGatewayProfile(p))) {
    for (const f of meshFeatures) features.add(f);
    sources.push(`@trellis/control-plane MESH_SUPPORTED_FEATURES (${meshFeatures.length})`);
  }
  if (coreOnly) {
    const core = new Set(profiles.flatMap((p) => PROFILE_CORE_FEATURES[p] ?? []));
    for (const f of features) if (!core.has(f)) features.delete(f);
    sources.push('core features only (--core-only)');
  }
  return {
    profiles,
    notRunnable,
    supportedFeatures: [...features].sort(),
    featureSources: sources,
  };
}

/** The suite's flags for this plan (the test binary's; `-test.*` are Go's own). */
export function suiteArgs(opts: {
  readonly plan: RunPlan;
  readonly gatewayClass: string;
  readonly version: string;
  readonly reportFile: string | undefined;
  readonly skipTests: readonly string[];
  readonly runTest: string | undefined;
  readonly debug: boolean;
  readonly timeouts: string | undefined;
  /** For GatewayStaticAddresses: an address the load balancer gives, and one it refuses. */
  readonly addresses?: { readonly usable: string; readonly unusable: string };
}): string[] {
  const labels = Object.entries(NAMESPACE_LABELS)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [
    '-test.v',
    '-test.timeout=3h',
    '-test.run=^TestConformance$',
    `-gateway-class=${opts.gatewayClass}`,
    `-conformance-profiles=${opts.plan.profiles.join(',')}`,
    `-supported-features=${opts.plan.supportedFeatures.join(',')}`,
    `-namespace-labels=${labels}`,
    '-organization=trellis-mesh',
    '-project=trellis',
    '-url=https://github.com/trellis-mesh/trellis',
    `-version=${opts.version}`,
    '-contact=https://github.com/trellis-mesh/trellis/issues',
    ...(opts.reportFile ? [`-report-output=${opts.reportFile}`] : []),
    ...(opts.skipTests.length ? [`-skip-tests=${opts.skipTests.join(',')}`] : []),
    ...(opts.runTest ? [`-run-test=${opts.runTest}`] : []),
    ...(opts.debug ? ['-debug'] : []),
    ...(opts.timeouts ? [`-timeout-config-overrides=${opts.timeouts}`] : []),
    ...(opts.addresses
      ? [`-usable-address=${opts.addresses.usable}`, `-unusable-address=${opts.addresses.unusable}`]
      : []),
  ];
}
