// `trellis analyze`: the mistakes users trip on, each found from a snapshot of the cluster and
// reported with a fix. Pure: objects in, findings out.
import type { KubeObject } from '../kube/objects.pure.js';
import { USE_WAYPOINT, isWaypoint } from './waypoint.pure.js';

export interface AnalysisInput {
  readonly rootNamespace: string;
  readonly namespaces: readonly KubeObject[];
  readonly pods: readonly KubeObject[];
  readonly services: readonly KubeObject[];
  readonly authorizationPolicies: readonly KubeObject[];
  readonly peerAuthentications: readonly KubeObject[];
  readonly requestAuthentications: readonly KubeObject[];
  readonly gateways: readonly KubeObject[];
  readonly httpRoutes: readonly KubeObject[];
  readonly grpcRoutes: readonly KubeObject[];
  /** Pods of the CNI agent DaemonSet (trellis-system, app=trellis-cni-node); undefined when it is not installed. */
  readonly cniAgentPods: readonly KubeObject[] | undefined;
}

export type Severity = 'error' | 'warning';

export interface Finding {
  readonly code: string;
  readonly severity: Severity;
  /** Namespace of the object the finding is about. */
  readonly namespace: string;
  readonly object: string;
  readonly message: string;
  readonly fix: string;
}

export const DATAPLANE_MODE = 'istio.io/dataplane-mode';
const SYSTEM_NAMESPACES = new Set([
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'trellis-system',
]);

export function analyze(input: AnalysisInput, onlyNamespace?: string): Finding[] {
  const findings = [
    ...policiesSelectingNothing(input),
    ...missingWaypoints(input),
    ...missingRouteBackends(input),
    ...strictWithPlaintextClients(input),
    ...enrolledWithoutCniAgent(input),
  ];
  return findings
    .filter((f) => !onlyNamespace || f.namespace === onlyNamespace)
    .sort((a, b) => a.code.localeCompare(b.code) || a.object.localeCompare(b.object));
}

const ns = (o: KubeObject): string => o.metadata?.namespace ?? '';
const name = (o: KubeObject): string => o.metadata?.name ?? '';
const labelsOf = (o: KubeObject): Record<string, string> => o.metadata?.labels ?? {};
const live = (pods: readonly KubeObject[]) =>
  pods.filter(
    (p) =>
      p.status?.phase !== 'Succeeded' &&
      p.status?.phase !== 'Failed' &&
      !p.metadata?.deletionTimestamp,
  );

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Pods in the mesh: enrolled by namespace or pod label, not opted out, not host-network. */
export function enrolledPods(input: AnalysisInput): KubeObject[] {
  const nsEnrolled = new Set(
    input.namespaces.filter((n) => labelsOf(n)[DATAPLANE_MODE] === 'ambient').map(name),
  );
  return live(input.pods).filter((p) => {
    if (p.spec?.hostNetwork) return false;
    const mode = labelsOf(p)[DATAPLANE_MODE];
    if (mode === 'none') return false;
    return mode === 'ambient' || nsEnrolled.has(ns(p));
  });
}

function policiesSelectingNothing(input: AnalysisInput): Finding[] {
  const out: Finding[] = [];
  const kinds: [string, readonly KubeObject[]][] = [
    ['AuthorizationPolicy', input.authorizationPolicies],
    ['PeerAuthentication', input.peerAuthentications],
    ['RequestAuthentication', input.requestAuthentications],
  ];
  for (const [kind, policies] of kinds)
    for (const p of policies) {
      const object = `${kind} ${ns(p)}/${name(p)}`;
      const selector = p.spec?.selector?.matchLabels;
      if (selector && Object.keys(selector).length) {
        const scope = live(input.pods).filter(
          (pod) => ns(p) === input.rootNamespace || ns(pod) === ns(p),
        );
        if (!scope.some((pod) => matches(selector, labelsOf(pod))))
          out.push({
            code: 'TR0001',
            severity: 'warning',
            namespace: ns(p),
            object,
            message: `its selector ${labelText(selector)} matches no pod${ns(p) === input.rootNamespace ? '' : ` in namespace ${ns(p)}`}, so it applies to nothing`,
            fix: `fix spec.selector.matchLabels to the labels of the pods it is meant for (kubectl get pods -n ${ns(p)} --show-labels), or delete the policy`,
          });
      }
      const refs: KubeObject[] = [
        ...(p.spec?.targetRef ? [p.spec.targetRef] : []),
        ...(p.spec?.targetRefs ?? []),
      ];
      for (const ref of refs) {
        const exists =
          ref.kind === 'Service'
            ? input.services.some((s) => ns(s) === ns(p) && name(s) === ref.name)
            : ref.kind === 'Gateway'
              ? input.gateways.some((g) => ns(g) === ns(p) && name(g) === ref.name)
              : true;
        if (!exists)
          out.push({
            code: 'TR0001',
            severity: 'warning',
            namespace: ns(p),
            object,
            message: `its targetRef names ${ref.kind} ${ns(p)}/${ref.name}, which does not exist, so it applies to nothing`,
            fix: `create ${ref.kind} ${ref.name} in ${ns(p)} or point the targetRef at an existing one`,
          });
      }
    }
  return out;
}

function missingWaypoints(input: AnalysisInput): Finding[] {
  const out: Finding[] = [];
  const waypointNames = new Set(
    input.gateways.filter(isWaypoint).map((g) => `${ns(g)}/${name(g)}`),
  );
  const check = (kind: string, o: KubeObject, namespace: string) => {
    const wanted = labelsOf(o)[USE_WAYPOINT];
    if (!wanted || wanted === 'none' || wanted === '#none') return;
    const wpNamespace = labelsOf(o)['istio.io/use-waypoint-namespace'] ?? namespace;
    if (waypointNames.has(`${wpNamespace}/${wanted}`)) return;
    out.push({
      code: 'TR0002',
      severity: 'error',
      namespace,
      object: kind === 'Namespace' ? `Namespace ${name(o)}` : `${kind} ${namespace}/${name(o)}`,
      message: `${USE_WAYPOINT}=${wanted} names waypoint ${wpNamespace}/${wanted}, which does not exist; its traffic gets no L7 processing`,
      fix: `trellis waypoint apply -n ${wpNamespace} --name ${wanted}, or remove the label`,
    });
  };
  for (const n of input.namespaces) check('Namespace', n, name(n));
  for (const s of input.services) check('Service', s, ns(s));
  for (const p of live(input.pods)) check('Pod', p, ns(p));
  return out;
}

function missingRouteBackends(input: AnalysisInput): Finding[] {
  const out: Finding[] = [];
  const services = new Set(input.services.map((s) => `${ns(s)}/${name(s)}`));
  for (const [kind, routes] of [
    ['HTTPRoute', input.httpRoutes],
    ['GRPCRoute', input.grpcRoutes],
  ] as const)
    for (const r of routes)
      for (const rule of r.spec?.rules ?? [])
        for (const b of rule.backendRefs ?? []) {
          if ((b.kind ?? 'Service') !== 'Service' || (b.group ?? '') !== '') continue;
          const target = `${b.namespace ?? ns(r)}/${b.name}`;
          if (services.has(target)) continue;
          out.push({
            code: 'TR0003',
            severity: 'error',
            namespace: ns(r),
            object: `${kind} ${ns(r)}/${name(r)}`,
            message: `backendRef Service ${target} does not exist; requests routed to it fail with 500`,
            fix: `create Service ${target}, or fix the backendRef's name${b.namespace ? ' and namespace' : ''}`,
          });
        }
  return out;
}

function strictWithPlaintextClients(input: AnalysisInput): Finding[] {
  const out: Finding[] = [];
  const enrolled = new Set(enrolledPods(input).map((p) => `${ns(p)}/${name(p)}`));
  const outside = live(input.pods).filter(
    (p) =>
      !p.spec?.hostNetwork && !SYSTEM_NAMESPACES.has(ns(p)) && !enrolled.has(`${ns(p)}/${name(p)}`),
  );
  if (outside.length === 0) return out;
  const outsideNamespaces = [...new Set(outside.map(ns))].sort();
  for (const pa of input.peerAuthentications) {
    if (pa.spec?.mtls?.mode !== 'STRICT') continue;
    const meshWide = ns(pa) === input.rootNamespace && !pa.spec?.selector;
    const covered = enrolledPods(input).filter(
      (p) =>
        (meshWide || ns(p) === ns(pa)) &&
        (!pa.spec?.selector?.matchLabels || matches(pa.spec.selector.matchLabels, labelsOf(p))),
    );
    if (covered.length === 0) continue;
    out.push({
      code: 'TR0004',
      severity: 'warning',
      namespace: ns(pa),
      object: `PeerAuthentication ${ns(pa)}/${name(pa)}`,
      message: `STRICT refuses plaintext, and ${outside.length} pod(s) outside the mesh (namespaces ${outsideNamespaces.join(', ')}) cannot reach the ${covered.length} workload(s) it covers`,
      fix: `enroll the callers (kubectl label namespace NAME ${DATAPLANE_MODE}=ambient), or use mode PERMISSIVE until they are`,
    });
  }
  return out;
}

function enrolledWithoutCniAgent(input: AnalysisInput): Finding[] {
  const out: Finding[] = [];
  const readyNodes = new Set(
    (input.cniAgentPods ?? [])
      .filter((p) =>
        (p.status?.conditions ?? []).some(
          (c: KubeObject) => c.type === 'Ready' && c.status === 'True',
        ),
      )
      .map((p) => p.spec?.nodeName),
  );
  const byNamespace = new Map<string, Set<string>>();
  for (const p of enrolledPods(input)) {
    const node = p.spec?.nodeName;
    if (!node || readyNodes.has(node)) continue;
    byNamespace.set(ns(p), (byNamespace.get(ns(p)) ?? new Set()).add(node));
  }
  for (const [namespace, nodes] of byNamespace)
    out.push({
      code: 'TR0005',
      severity: 'error',
      namespace,
      object: `Namespace ${namespace}`,
      message:
        input.cniAgentPods === undefined
          ? `it is enrolled but the CNI agent is not installed, so its pods' traffic is not redirected to ztunnel (no mTLS, no policy)`
          : `it is enrolled but the CNI agent is not Ready on node(s) ${[...nodes].sort().join(', ')}, so its pods there are not redirected (no mTLS, no policy)`,
      fix:
        input.cniAgentPods === undefined
          ? 'trellis install (profile default installs the CNI agent)'
          : `kubectl -n trellis-system get pods -l app=trellis-cni-node -o wide; fix the agent on those nodes (trellis status)`,
    });
  return out;
}

function labelText(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
