// RDS: the RouteConfiguration of one service port, from the routes attached to it or, without any,
// one route to the service itself.
import { create } from '@bufbuild/protobuf';
import {
  DirectResponseActionSchema,
  RouteActionSchema,
  RouteMatchSchema,
  RouteSchema,
  VirtualHostSchema,
  type Route,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import {
  RouteConfigurationSchema,
  type RouteConfiguration,
} from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import type { GRPCRoute, HTTPRoute } from '../../model/gateway-api.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import type { AttachedRoute } from './route-attachment.js';
import type { RouteContext } from './route-context.js';
import { comparePrecedence } from './route-match.js';
import { grpcRouteEntries, httpRouteEntries, type RouteEntry } from './route-rules.js';
import { durationFromMs } from './duration.js';
import { FAULT_FILTER, faultFromAnnotations } from './fault-annotations.js';
import { packAny } from '@trellis/api';
import { HTTPFaultSchema } from '@trellis/api/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import {
  MetadataMatcher_PathSegmentSchema,
  MetadataMatcherSchema,
  type MetadataMatcher,
} from '@trellis/api/gen/envoy/type/matcher/v3/metadata_pb.js';
import { StringMatcherSchema } from '@trellis/api/gen/envoy/type/matcher/v3/string_pb.js';
import { ValueMatcherSchema } from '@trellis/api/gen/envoy/type/matcher/v3/value_pb.js';
import { clusterName } from './names.js';

/**
 * The routes of one service port in Gateway API precedence order: more specific match first,
 * then the older route, then namespace/name, then rule and match order.
 */
export function servicePortRoutes(
  service: ServiceInfo,
  port: ServicePortInfo,
  attached: readonly AttachedRoute[],
  ctx: RouteContext,
): Route[] {
  if (attached.length === 0) {
    const cluster = clusterName(service.hostname, port.port);
    ctx.clusters.set(cluster, { cluster, service, port });
    return [defaultRoute(cluster, ctx)];
  }
  return attachedRouteEntries(attached, ctx);
}

/**
 * The Envoy routes of HTTPRoutes and GRPCRoutes (each once) in Gateway API precedence order; what
 * a waypoint's service port and an ingress gateway's virtual host are made of.
 */
export function attachedRouteEntries(
  attached: readonly AttachedRoute[],
  ctx: RouteContext,
): Route[] {
  const seen = new Set<string>();
  const entries: (RouteEntry & { source: AttachedRoute })[] = [];
  for (const r of attached) {
    const id = `${r.kind}/${r.namespace}/${r.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const built =
      r.kind === 'HTTPRoute'
        ? httpRouteEntries(r.object as HTTPRoute, r, ctx)
        : grpcRouteEntries(r.object as GRPCRoute, r, ctx);
    const fault =
      ctx.target === 'envoy' ? faultFromAnnotations(r.object.metadata.annotations) : undefined;
    if (typeof fault === 'string')
      ctx.notes.add(r.kind, `${r.namespace}/${r.name}`, `${fault}; no fault injected`);
    for (const e of built) {
      if (fault && typeof fault !== 'string')
        e.route.typedPerFilterConfig[FAULT_FILTER] = packAny(HTTPFaultSchema, fault);
      entries.push({ ...e, source: r });
    }
  }
  entries.sort(
    (a, b) =>
      comparePrecedence(a.precedence, b.precedence) ||
      a.source.createdMs - b.source.createdMs ||
      compare(`${a.source.namespace}/${a.source.name}`, `${b.source.namespace}/${b.source.name}`) ||
      compare(a.source.kind, b.source.kind) ||
      a.rule - b.rule ||
      a.match - b.match,
  );
  return entries.map((e) => e.route);
}

export function routeConfiguration(name: string, routes: Route[]): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name,
    virtualHosts: [create(VirtualHostSchema, { name, domains: ['*'], routes })],
  });
}

function defaultRoute(cluster: string, ctx: RouteContext): Route {
  const action = create(RouteActionSchema, {
    clusterSpecifier: { case: 'cluster', value: cluster },
  });
  if (ctx.target === 'envoy') action.timeout = durationFromMs(0);
  return create(RouteSchema, {
    name: 'default',
    match: create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/' } }),
    action: { case: 'route', value: action },
  });
}

/**
 * A waypoint's routes for one service port: the consumer routes of each namespace (GAMMA), each
 * matched on the caller's namespace (the waypoint's istio_authn metadata `source.namespace`) and
 * closed by a 404 for that namespace's other requests, as its clients see only their consumer
 * routes (as proxyless clients do); then the producer routes for every other caller.
 */
export function waypointPortRoutes(
  service: ServiceInfo,
  port: ServicePortInfo,
  producer: readonly AttachedRoute[],
  consumers: ReadonlyMap<string, readonly AttachedRoute[]>,
  ctx: RouteContext,
): Route[] {
  const out: Route[] = [];
  for (const [namespace, routes] of consumers) {
    const caller = sourceNamespace(namespace);
    for (const r of servicePortRoutes(service, port, routes, ctx)) {
      r.match?.dynamicMetadata.push(caller);
      out.push(r);
    }
    out.push(
      create(RouteSchema, {
        name: `consumer-routes-of-${namespace}-matched-none`,
        match: create(RouteMatchSchema, {
          pathSpecifier: { case: 'prefix', value: '/' },
          dynamicMetadata: [caller],
        }),
        action: {
          case: 'directResponse',
          value: create(DirectResponseActionSchema, { status: 404 }),
        },
      }),
    );
  }
  out.push(...servicePortRoutes(service, port, producer, ctx));
  return out;
}

/** Requests from clients of `namespace`: the waypoint's istio_authn metadata (source.namespace). */
function sourceNamespace(namespace: string): MetadataMatcher {
  return create(MetadataMatcherSchema, {
    filter: 'istio_authn',
    path: [
      create(MetadataMatcher_PathSegmentSchema, {
        segment: { case: 'key', value: 'source.namespace' },
      }),
    ],
    value: create(ValueMatcherSchema, {
      matchPattern: {
        case: 'stringMatch',
        value: create(StringMatcherSchema, { matchPattern: { case: 'exact', value: namespace } }),
      },
    }),
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
