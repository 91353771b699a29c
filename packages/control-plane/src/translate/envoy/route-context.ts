// What route translation needs from its surroundings, and what it reports back.
import type { ParentReference, ReferenceGrant } from '../../model/gateway-api.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import type { NoteSink } from './notes.js';
import type { RouteTarget } from './route-match.js';

export interface ClusterRef {
  readonly cluster: string;
  readonly service: ServiceInfo;
  readonly port: ServicePortInfo;
}

/** Services by `<namespace>/<hostname>`. */
export type ServiceLookup = Pick<ReadonlyMap<string, ServiceInfo>, 'get'>;

export interface RouteContext {
  readonly target: RouteTarget;
  /** All services by `<namespace>/<hostname>`. */
  readonly services: ServiceLookup;
  readonly domainSuffix: string;
  readonly notes: NoteSink;
  /** Every cluster a route sends to or mirrors to, by name; the caller serves them. */
  readonly clusters: Map<string, ClusterRef>;
  /** Grants for cross-namespace backendRefs of Gateway-bound routes (none: refused). */
  readonly referenceGrants?: readonly ReferenceGrant[];
}

/** Where routes come from, for notes and route names. */
export interface RouteSource {
  readonly kind: 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute';
  readonly namespace: string;
  readonly name: string;
  /**
   * The parentRef the route is served under: backendRefs may cross namespaces under a Service
   * parent (GAMMA), not under a Gateway (see route-attachment.ts). Default: a Service.
   */
  readonly parent?: ParentReference;
}
