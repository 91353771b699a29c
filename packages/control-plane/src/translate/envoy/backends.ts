// backendRefs -> Envoy cluster specifiers. A backend must be a Service port of the mesh.
import { create } from '@bufbuild/protobuf';
import {
  WeightedCluster_ClusterWeightSchema,
  WeightedClusterSchema,
  type RouteAction,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import type { BackendObjectReference, BackendRef } from './gateway-api.js';
import { clusterName } from './names.js';
import type { RouteContext, RouteSource } from './route-context.js';

/**
 * The cluster for a backend, or the reason it cannot have one. A Service or port that does not
 * exist still names its (unserved) cluster, so that its share of traffic fails as Gateway API asks.
 */
export function backendCluster(
  ref: BackendObjectReference,
  source: RouteSource,
  ctx: RouteContext,
): { cluster: string } | { problem: string } {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  if ((group !== '' && group !== 'core') || kind !== 'Service')
    return {
      problem: `backend kind ${group ? `${group}/` : ''}${kind} is not supported (only Service)`,
    };
  if (typeof ref.name !== 'string' || ref.name === '')
    return { problem: 'backendRef without a name' };
  if (!Number.isInteger(ref.port)) return { problem: `backendRef ${ref.name} needs a port` };
  const namespace = ref.namespace ?? source.namespace;
  const hostname = `${ref.name}.${namespace}.svc.${ctx.domainSuffix}`;
  const cluster = clusterName(hostname, ref.port!);
  const service = ctx.services.get(`${namespace}/${hostname}`);
  const port = service?.ports.find((p) => p.port === ref.port);
  if (!service || !port) {
    ctx.notes.add(
      source.kind,
      `${source.namespace}/${source.name}`,
      service
        ? `backend ${namespace}/${ref.name} has no port ${ref.port}`
        : `backend Service ${namespace}/${ref.name} not found`,
    );
    return { cluster };
  }
  ctx.clusters.set(cluster, { cluster, service, port });
  return { cluster };
}

/**
 * One cluster, or weighted clusters; undefined when nothing can receive traffic (no backends,
 * all weights zero, or none valid), which the caller answers with a 500.
 */
export function clusterSpecifier(
  refs: readonly BackendRef[] | undefined,
  source: RouteSource,
  ctx: RouteContext,
): RouteAction['clusterSpecifier'] | undefined {
  const weighted: { cluster: string; weight: number }[] = [];
  for (const ref of refs ?? []) {
    const weight = ref.weight ?? 1;
    if (!Number.isInteger(weight) || weight < 0) {
      ctx.notes.add(
        source.kind,
        `${source.namespace}/${source.name}`,
        `backend ${ref.name} has invalid weight ${String(ref.weight)}`,
      );
      continue;
    }
    if (ref.filters?.length)
      ctx.notes.add(
        source.kind,
        `${source.namespace}/${source.name}`,
        'backendRefs[].filters are not supported and were ignored',
      );
    const r = backendCluster(ref, source, ctx);
    if ('problem' in r) {
      ctx.notes.add(source.kind, `${source.namespace}/${source.name}`, r.problem);
      // Its share of requests fails: a cluster name that is never served.
      if (weight > 0)
        weighted.push({ cluster: `invalid-backend|${source.namespace}/${source.name}`, weight });
      continue;
    }
    if (weight > 0) weighted.push({ cluster: r.cluster, weight });
  }
  const merged = new Map<string, number>();
  for (const w of weighted) merged.set(w.cluster, (merged.get(w.cluster) ?? 0) + w.weight);
  const valid = [...merged.keys()].filter((c) => !c.startsWith('invalid-backend|'));
  if (valid.length === 0) return undefined;
  if (merged.size === 1) return { case: 'cluster', value: valid[0]! };
  return {
    case: 'weightedClusters',
    value: create(WeightedClusterSchema, {
      clusters: [...merged].map(([name, weight]) =>
        create(WeightedCluster_ClusterWeightSchema, { name, weight }),
      ),
    }),
  };
}
