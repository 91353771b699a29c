// What the conformance runner asks of the suite: which of the requested profiles can run on this
// installation, with which supported features, and how the mesh namespaces are enrolled. Pure.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type KubeObject = any;

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
  ];
}
