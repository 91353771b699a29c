// Test resources: Clusters, Listeners and RouteConfigurations packed in Any, and snapshots of them.
import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  packAny,
  ROUTE_CONFIGURATION_TYPE_URL,
} from '@trellis/api';
import { ClusterLoadAssignmentSchema } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import {
  ClusterSchema,
  type Cluster,
} from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { protoDecoder } from '../client/decode.js';
import type { ResourceChange, ResourceHandler } from '../client/types.js';
import type { ResourceSnapshot } from '../server/generators.js';

/** A Cluster named `name`; `tag` (its alt_stat_name) varies its content. "bad" fails clusterHandler. */
export function cluster(name: string, tag = 'v1'): Any {
  return packAny(ClusterSchema, create(ClusterSchema, { name, altStatName: tag }));
}

export function listener(name: string, tag = 'v1'): Any {
  return packAny(ListenerSchema, create(ListenerSchema, { name, statPrefix: tag }));
}

export function route(name: string, tag = 'v1'): Any {
  return packAny(
    RouteConfigurationSchema,
    create(RouteConfigurationSchema, { name, virtualHosts: [{ name: tag, domains: ['*'] }] }),
  );
}

/** A ClusterLoadAssignment of cluster `name`; `tag` (one endpoint's hostname) varies its content. */
export function endpoints(name: string, tag = 'v1'): Any {
  return packAny(
    ClusterLoadAssignmentSchema,
    create(ClusterLoadAssignmentSchema, {
      clusterName: name,
      endpoints: [
        { lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { hostname: tag } } }] },
      ],
    }),
  );
}

/** A snapshot from { clusters: {name: tag}, listeners: ..., routes: ..., endpoints: ... }. */
export function snapshot(spec: {
  clusters?: Record<string, string>;
  listeners?: Record<string, string>;
  routes?: Record<string, string>;
  endpoints?: Record<string, string>;
}): ResourceSnapshot {
  const of = (make: (n: string, t: string) => Any, m: Record<string, string> = {}) =>
    new Map(Object.entries(m).map(([n, t]) => [n, make(n, t)]));
  return new Map([
    [CLUSTER_TYPE_URL, of(cluster, spec.clusters)],
    [LISTENER_TYPE_URL, of(listener, spec.listeners)],
    [ROUTE_CONFIGURATION_TYPE_URL, of(route, spec.routes)],
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, of(endpoints, spec.endpoints)],
  ]);
}

type Kind = 'cluster' | 'listener' | 'route';

const decoders = {
  cluster: protoDecoder(ClusterSchema, (c: Cluster) =>
    c.altStatName === 'bad'
      ? { ok: false as const, reason: `cluster ${c.name} is marked bad` }
      : { ok: true as const, value: `${c.name}=${c.altStatName}` },
  ),
  listener: protoDecoder(ListenerSchema, (l) => ({
    ok: true as const,
    value: `${l.name}=${l.statPrefix}`,
  })),
  route: protoDecoder(RouteConfigurationSchema, (r) => ({
    ok: true as const,
    value: `${r.name}=${r.virtualHosts[0]?.name ?? ''}`,
  })),
};

/**
 * A handler recording every change. Values are "name=tag" strings; a Cluster tagged "bad" is
 * rejected by validation.
 */
export class Recorder implements ResourceHandler<string> {
  readonly changes: ResourceChange<string>[] = [];
  readonly decode: ResourceHandler<string>['decode'];
  private waiters: {
    pred: (c: ResourceChange<string>) => boolean;
    resolve: (c: ResourceChange<string>) => void;
  }[] = [];

  constructor(kind: Kind = 'cluster') {
    this.decode = decoders[kind];
  }

  resourceName(value: string): string {
    return value.split('=')[0]!;
  }

  onChange(change: ResourceChange<string>): void {
    this.changes.push(change);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(change)) return true;
      w.resolve(change);
      return false;
    });
  }

  /** The first change, recorded from index `from` on or still to come, matching `pred`. */
  next(
    pred: (c: ResourceChange<string>) => boolean = () => true,
    from = 0,
  ): Promise<ResourceChange<string>> {
    const seen = this.changes.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** Waits for a change after which the full state is `expected` (name -> tag). */
  state(expected: Record<string, string>, from = 0): Promise<ResourceChange<string>> {
    const want = tags(expected);
    return this.next((c) => tags(c.resources) === want, from);
  }
}

/** A canonical string of a name -> tag state, from a record or from a Recorder's values. */
export function tags(state: Record<string, string> | ReadonlyMap<string, string>): string {
  const list =
    state instanceof Map
      ? [...(state as ReadonlyMap<string, string>).values()]
      : Object.entries(state).map(([n, t]) => `${n}=${t}`);
  return list.sort().join(',');
}
