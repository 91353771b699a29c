// backendRefs -> Envoy cluster specifiers. A backend must be a Service port of the mesh. The
// decision on each backendRef (`decideBackend`) is also what ResolvedRefs status reports.
import { create } from '@bufbuild/protobuf';
import {
  WeightedCluster_ClusterWeightSchema,
  WeightedClusterSchema,
  type RouteAction,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import {
  GATEWAY_GROUP,
  type BackendObjectReference,
  type BackendRef,
  type ReferenceGrant,
} from '../../model/gateway-api.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import { clusterName } from './names.js';
import { referenceAllowed } from './reference-grants.js';
import type { RouteContext, RouteSource, ServiceLookup } from './route-context.js';
import { ruleFilters, type RuleFilters } from './route-filters.js';

/** The filters a backendRef may carry here: header changes for requests to that backend only. */
const BACKEND_FILTERS: ReadonlySet<string> = new Set([
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
]);

type BackendHeaders = Pick<
  RuleFilters,
  | 'requestHeadersToAdd'
  | 'requestHeadersToRemove'
  | 'responseHeadersToAdd'
  | 'responseHeadersToRemove'
>;

/**
 * The decision on one backendRef, shared by ResolvedRefs and the translators: the cluster it sends
 * to, or why it cannot have one. A Service or port that does not exist still names its (unserved)
 * cluster, so its share of requests fails as Gateway API asks.
 */
export type BackendDecision =
  | { ok: true; cluster: string; service?: ServiceInfo; port?: ServicePortInfo; problem?: string }
  | { ok: false; reason: 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound'; problem: string };

export function decideBackend(
  ref: BackendObjectReference,
  source: RouteSource,
  crossNamespace: boolean,
  services: ServiceLookup,
  domainSuffix: string,
): BackendDecision {
  if (ref.group !== '' || ref.kind !== 'Service')
    return {
      ok: false,
      reason: 'InvalidKind',
      problem: `backend kind ${ref.group ? `${ref.group}/` : ''}${ref.kind} is not supported (only Service)`,
    };
  if (ref.port === undefined)
    return { ok: false, reason: 'BackendNotFound', problem: `backendRef ${ref.name} needs a port` };
  if (ref.namespace !== source.namespace && !crossNamespace)
    return {
      ok: false,
      reason: 'RefNotPermitted',
      problem: `backendRef to Service ${ref.namespace}/${ref.name} crosses namespaces from a Gateway-bound route: no ReferenceGrant in namespace ${ref.namespace} lets ${source.kind}s of ${source.namespace} refer to it`,
    };
  const hostname = `${ref.name}.${ref.namespace}.svc.${domainSuffix}`;
  const cluster = clusterName(hostname, ref.port);
  const service = services.get(`${ref.namespace}/${hostname}`);
  const port = service?.ports.find((p) => p.port === ref.port);
  if (!service)
    return { ok: true, cluster, problem: `backend Service ${ref.namespace}/${ref.name} not found` };
  if (!port)
    return {
      ok: true,
      cluster,
      service,
      problem: `backend ${ref.namespace}/${ref.name} has no port ${ref.port}`,
    };
  return { ok: true, cluster, service, port };
}

/** Whether a ReferenceGrant lets a Gateway-bound route of `source` send to `ref` in another namespace. */
export function backendGranted(
  grants: readonly ReferenceGrant[] | undefined,
  source: Pick<RouteSource, 'kind' | 'namespace'>,
  ref: BackendObjectReference,
): boolean {
  return referenceAllowed(
    grants,
    { group: GATEWAY_GROUP, kind: source.kind, namespace: source.namespace },
    { group: ref.group, kind: ref.kind, namespace: ref.namespace, name: ref.name },
  );
}

/**
 * The cluster for a backend, or the reason it cannot have one. A Service or port that does not
 * exist still names its (unserved) cluster, so that its share of traffic fails as Gateway API asks.
 */
export function backendCluster(
  ref: BackendObjectReference,
  source: RouteSource,
  ctx: RouteContext,
): { cluster: string } | { problem: string } {
  const d = decideBackend(
    ref,
    source,
    source.parent?.kind !== 'Gateway' || backendGranted(ctx.referenceGrants, source, ref),
    ctx.services,
    ctx.domainSuffix,
  );
  if (!d.ok) return { problem: d.problem };
  if (d.problem) ctx.notes.add(source.kind, `${source.namespace}/${source.name}`, d.problem);
  if (d.service && d.port)
    ctx.clusters.set(d.cluster, { cluster: d.cluster, service: d.service, port: d.port });
  return { cluster: d.cluster };
}

/**
 * The cluster name that stands for a route's invalid backends: never served, so the share of
 * requests or connections sent to it fails (Envoy answers 500 or closes the connection).
 */
export function unservedCluster(source: Pick<RouteSource, 'namespace' | 'name'>): string {
  return `${UNSERVED_PREFIX}${source.namespace}/${source.name}`;
}
const UNSERVED_PREFIX = 'invalid-backend|';

/**
 * One cluster, or weighted clusters; undefined when nothing can receive traffic (no backends,
 * all weights zero, or none valid), which the caller answers with a 500.
 */
export function clusterSpecifier(
  refs: readonly BackendRef[],
  source: RouteSource,
  ctx: RouteContext,
): RouteAction['clusterSpecifier'] | undefined {
  const weighted: { cluster: string; weight: number; headers?: BackendHeaders }[] = [];
  for (const ref of refs) {
    const weight = ref.weight;
    if (weight < 0) {
      ctx.notes.add(
        source.kind,
        `${source.namespace}/${source.name}`,
        `backend ${ref.name} has invalid weight ${String(ref.weight)}`,
      );
      continue;
    }
    const headers = ref.filters.length ? backendHeaders(ref, source, ctx) : undefined;
    const r = backendCluster(ref, source, ctx);
    if ('problem' in r) {
      ctx.notes.add(source.kind, `${source.namespace}/${source.name}`, r.problem);
      // Its share of requests fails: a cluster name that is never served.
      if (weight > 0) weighted.push({ cluster: unservedCluster(source), weight });
      continue;
    }
    if (weight > 0) weighted.push({ cluster: r.cluster, weight, headers });
  }
  // Backends naming the same cluster with the same header changes share one entry.
  const merged = new Map<string, { cluster: string; weight: number; headers?: BackendHeaders }>();
  for (const w of weighted) {
    const key = w.headers ? `${w.cluster}|${JSON.stringify(w.headers)}` : w.cluster;
    const m = merged.get(key);
    if (m) m.weight += w.weight;
    else merged.set(key, { ...w });
  }
  const entries = [...merged.values()];
  const valid = entries.filter((e) => !e.cluster.startsWith(UNSERVED_PREFIX));
  if (valid.length === 0) return undefined;
  if (entries.length === 1 && !valid[0]!.headers)
    return { case: 'cluster', value: valid[0]!.cluster };
  return {
    case: 'weightedClusters',
    value: create(WeightedClusterSchema, {
      clusters: entries.map(({ cluster, weight, headers }) =>
        create(WeightedCluster_ClusterWeightSchema, { name: cluster, weight, ...headers }),
      ),
    }),
  };
}

/** A backendRef's header changes (requests to it, its responses); other filter kinds are noted. */
function backendHeaders(
  ref: BackendRef,
  source: RouteSource,
  ctx: RouteContext,
): BackendHeaders | undefined {
  const f = ruleFilters(ref.filters, BACKEND_FILTERS);
  if (f.invalid) {
    ctx.notes.add(
      source.kind,
      `${source.namespace}/${source.name}`,
      `backendRef ${ref.name}: ${f.invalid}; its filters were ignored`,
    );
    return undefined;
  }
  const {
    requestHeadersToAdd,
    requestHeadersToRemove,
    responseHeadersToAdd,
    responseHeadersToRemove,
  } = f;
  return {
    requestHeadersToAdd,
    requestHeadersToRemove,
    responseHeadersToAdd,
    responseHeadersToRemove,
  };
}
