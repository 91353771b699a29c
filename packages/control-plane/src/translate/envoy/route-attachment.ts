// Where each HTTPRoute and GRPCRoute attaches, decided once per snapshot: for every parentRef this
// control plane is responsible for (a Service: GAMMA; a Gateway of a waypoint class), whether it
// is accepted and why (the reasons Gateway API names), whether its backendRefs resolve, which rules
// had to be dropped, and where it is served. The Envoy translators serve exactly the accepted
// attachments, and the route and Gateway status is rendered from the same results, so what is
// served and what status says cannot disagree. Pure; cached per state object.
//
// Attachment rules:
// - Service parent in the route's namespace (producer route): every request to the Service,
//   through its waypoint and from proxyless gRPC clients. `port` / `sectionName` pick ports.
// - Service parent in another namespace (consumer route): only requests from the route's
//   namespace, which get these routes instead of the producer routes for that Service port
//   (GAMMA): proxyless gRPC clients of that namespace (node id `<type>~<ip>~<pod>.<ns>~...`) get
//   them in their own set; the Service's waypoint serves callers from every namespace and applies
//   them to requests whose peer identity is of that namespace.
// - Gateway parent of a waypoint class: the listeners picked by `sectionName` / `port` that allow
//   the route's kind and namespace (`allowedRoutes`, the same function that decides which
//   namespaces may use the waypoint); served for the waypoint's services the route's hostnames
//   name (all of them without hostnames).
// - backendRefs may name Services in other namespaces from a Service parent (GAMMA needs no
//   ReferenceGrant); from a Gateway parent they need a ReferenceGrant, which is not read, so they
//   are refused (RefNotPermitted) and their share of requests fails.
import { allowsKind, allowsNamespace, describeAllowed } from '../../collections/allowed-routes.js';
import { createdMs, labelsOf } from '../../collections/meta.js';
import {
  GATEWAY_GROUP,
  type Gateway,
  type GatewayListener,
  type GRPCRoute,
  type HTTPRoute,
  type ParentReference,
} from '../../model/gateway-api.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import { decideBackend } from './backends.js';
import type { RouteSource } from './route-context.js';
import { routeRuleProblems } from './route-rules.js';
import type { EnvoyState } from './state.js';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute';

/** A condition of a route parent before it is stamped with generation and time. */
export interface RouteCondition {
  readonly type: 'Accepted' | 'ResolvedRefs' | 'PartiallyInvalid';
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}

export interface AttachedRoute extends RouteSource {
  readonly object: HTTPRoute | GRPCRoute;
  readonly parent: ParentReference;
  /** creationTimestamp in ms; routes without one sort after those with one. */
  readonly createdMs: number;
}

/** The decision for one parentRef we are responsible for. */
export interface ParentResult {
  readonly parentRef: ParentReference;
  readonly conditions: readonly RouteCondition[];
  /** Accepted by a waypoint Gateway: `<ns>/<name>` and the listeners it attached to. */
  readonly gateway?: { readonly key: string; readonly listeners: readonly string[] };
  /** Accepted by a Service: its key, the ports it applies to, and the consumer namespace. */
  readonly service?: {
    readonly key: string;
    readonly ports: readonly number[];
    readonly consumerNamespace?: string;
  };
}

export interface RouteResult {
  readonly route: RouteSource;
  readonly object: HTTPRoute | GRPCRoute;
  /** Only the parentRefs we are responsible for, in the route's order. */
  readonly parents: readonly ParentResult[];
}

export interface RouteAttachments {
  /** Every route, HTTPRoutes first, in snapshot order. */
  readonly routes: readonly RouteResult[];
  /**
   * Routes for one service port as seen by a client in `clientNamespace`: that namespace's
   * consumer routes for the Service if it has any, else the producer routes. Without a namespace
   * (waypoints, clients without an Istio node id): the producer routes.
   */
  forServicePort(
    service: ServiceInfo,
    port: ServicePortInfo,
    clientNamespace?: string,
  ): AttachedRoute[];
  /**
   * The consumer routes of one service port by client namespace (in namespace order), for a
   * waypoint, which serves every namespace's callers.
   */
  consumersOf(service: ServiceInfo, port: ServicePortInfo): ReadonlyMap<string, AttachedRoute[]>;
  /** Routes attached to the waypoint's Gateway whose hostnames (if any) name the service. */
  forWaypoint(waypoint: WaypointInfo, service: ServiceInfo): AttachedRoute[];
  /** Namespaces that have consumer routes (their proxyless clients get their own resource set). */
  readonly consumerNamespaces: ReadonlySet<string>;
  /** Accepted routes per `<gateway ns>/<name>` and listener name (Gateway status attachedRoutes). */
  attachedRoutes(gatewayKey: string, listener: string): number;
}

const cache = new WeakMap<EnvoyState, RouteAttachments>();

export function routeAttachments(state: EnvoyState): RouteAttachments {
  let r = cache.get(state);
  if (!r) cache.set(state, (r = computeAttachments(state)));
  return r;
}

function computeAttachments(state: EnvoyState): RouteAttachments {
  const gateways = new Map<string, Gateway>();
  for (const g of state.gateways ?? [])
    gateways.set(`${g.metadata.namespace}/${g.metadata.name}`, g);
  const namespaces = new Map((state.namespaces ?? []).map((n) => [n.metadata?.name ?? '', n]));
  const namespaceLabels = (ns: string) => labelsOf(namespaces.get(ns));
  const serviceByName = (ns: string, name: string) =>
    state.services.get(`${ns}/${name}.${ns}.svc.${state.options.domainSuffix}`);

  const routes: RouteResult[] = [];
  const producer = new Map<string, AttachedRoute[]>(); // by service key
  const consumer = new Map<string, AttachedRoute[]>(); // by `<client ns>\0<service key>`
  const consumersByService = new Map<string, Set<string>>(); // service key -> client namespaces
  const byGateway = new Map<string, AttachedRoute[]>();
  const attached = new Map<string, number>(); // `<gateway>\0<listener>` -> routes
  const consumerNamespaces = new Set<string>();
  const push = <K>(m: Map<K, AttachedRoute[]>, k: K, r: AttachedRoute) => {
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  };

  const add = (kind: RouteKind, object: HTTPRoute | GRPCRoute) => {
    const source = { kind, namespace: object.metadata.namespace, name: object.metadata.name };
    const created = createdMs(object);
    const problems = routeRuleProblems(object, kind);
    const parents: ParentResult[] = [];
    for (const parentRef of object.spec.parentRefs) {
      const isService = parentRef.group === '' && parentRef.kind === 'Service';
      const isGateway = parentRef.group === GATEWAY_GROUP && parentRef.kind === 'Gateway';
      if (!isService && !isGateway) continue; // another implementation's kind of parent
      const gateway = isGateway
        ? gateways.get(`${parentRef.namespace}/${parentRef.name}`)
        : undefined;
      if (gateway && !state.options.waypointClasses.includes(gateway.spec.gatewayClassName))
        continue; // another controller's Gateway
      const route: AttachedRoute = { ...source, object, parent: parentRef, createdMs: created };
      const refs = resolvedRefs(object, isService, state);
      const decided = isService
        ? serviceParent(parentRef, source.namespace, serviceByName)
        : gatewayParent(parentRef, kind, object, gateway, namespaceLabels);
      const conditions: RouteCondition[] = [decided.accepted, refs];
      // Rules that cannot be honoured are still served (matches left out, or 500 as Gateway API
      // asks for filters it cannot apply): dropping the route would let those requests through.
      if (problems.length > 0 && decided.accepted.status)
        conditions.push(
          condition(
            'PartiallyInvalid',
            true,
            'UnsupportedValue',
            `Dropped Rule(s): ${problems.join('; ')}`,
          ),
        );
      const result: ParentResult = { parentRef, conditions, ...decided.target };
      parents.push(result);
      if (!conditions[0]!.status) continue;
      if (result.service) {
        const consumerNs = result.service.consumerNamespace;
        if (consumerNs === undefined) push(producer, result.service.key, route);
        else {
          consumerNamespaces.add(consumerNs);
          push(consumer, `${consumerNs}\0${result.service.key}`, route);
          const namespaces = consumersByService.get(result.service.key) ?? new Set<string>();
          consumersByService.set(result.service.key, namespaces.add(consumerNs));
        }
      }
      if (result.gateway) {
        push(byGateway, result.gateway.key, route);
        for (const l of result.gateway.listeners) {
          const k = `${result.gateway.key}\0${l}`;
          attached.set(k, (attached.get(k) ?? 0) + 1);
        }
      }
    }
    routes.push({ route: source, object, parents });
  };
  for (const r of state.httpRoutes ?? []) add('HTTPRoute', r);
  for (const r of state.grpcRoutes ?? []) add('GRPCRoute', r);

  const onPort = (list: readonly AttachedRoute[] | undefined, port: ServicePortInfo) =>
    (list ?? []).filter(
      (r) =>
        (r.parent.port === undefined || r.parent.port === port.port) &&
        (r.parent.sectionName === undefined || r.parent.sectionName === port.name),
    );
  return {
    routes,
    consumerNamespaces,
    forServicePort(service, port, clientNamespace) {
      if (clientNamespace !== undefined && clientNamespace !== service.namespace) {
        const own = onPort(consumer.get(`${clientNamespace}\0${service.key}`), port);
        if (own.length > 0) return own;
      }
      return onPort(producer.get(service.key), port);
    },
    consumersOf(service, port) {
      const out = new Map<string, AttachedRoute[]>();
      for (const ns of [...(consumersByService.get(service.key) ?? [])].sort()) {
        const own = onPort(consumer.get(`${ns}\0${service.key}`), port);
        if (own.length > 0) out.set(ns, own);
      }
      return out;
    },
    forWaypoint(waypoint, service) {
      return (byGateway.get(waypoint.key) ?? []).filter((r) => {
        const hostnames = r.object.spec.hostnames;
        return hostnames.length === 0 || hostnames.some((h) => hostnameCovers(h, service));
      });
    },
    attachedRoutes: (gatewayKey, listener) => attached.get(`${gatewayKey}\0${listener}`) ?? 0,
  };
}

function condition(
  type: RouteCondition['type'],
  status: boolean,
  reason: string,
  message: string,
): RouteCondition {
  return { type, status, reason, message };
}

interface Decided {
  accepted: RouteCondition;
  target?: Pick<ParentResult, 'gateway' | 'service'>;
}

function serviceParent(
  ref: ParentReference,
  routeNamespace: string,
  serviceByName: (ns: string, name: string) => ServiceInfo | undefined,
): Decided {
  const what = `Service ${ref.namespace}/${ref.name}`;
  const svc = serviceByName(ref.namespace, ref.name);
  const notAccepted = (message: string) => ({
    accepted: condition('Accepted', false, 'NoMatchingParent', message),
  });
  if (!svc) return notAccepted(`${what} not found (or of type ExternalName)`);
  if (svc.vips.length === 0)
    return notAccepted(`${what} is headless: a route needs a Service with a cluster IP`);
  const ports = svc.ports.filter(
    (p) =>
      (ref.port === undefined || p.port === ref.port) &&
      (ref.sectionName === undefined || p.name === ref.sectionName),
  );
  if (ports.length === 0)
    return notAccepted(
      ref.sectionName !== undefined
        ? `${what} has no port named "${ref.sectionName}"${ref.port !== undefined ? ` with number ${ref.port}` : ''}`
        : `${what} has no port ${ref.port}`,
    );
  const consumer = ref.namespace !== routeNamespace;
  const later = `; other traffic is routed once the Service uses a waypoint (label istio.io/use-waypoint)`;
  const message = consumer
    ? `consumer route: applied to requests from namespace ${routeNamespace} instead of the producer routes of ${what}, ${
        svc.waypoint
          ? `at waypoint ${svc.waypoint.waypoint} (by the caller's identity) and for proxyless gRPC clients`
          : `for proxyless gRPC clients${later}`
      }`
    : `producer route: applied ${
        svc.waypoint
          ? `at waypoint ${svc.waypoint.waypoint} and for proxyless gRPC clients`
          : `for proxyless gRPC clients${later}`
      }`;
  return {
    accepted: condition('Accepted', true, 'Accepted', message),
    target: {
      service: {
        key: svc.key,
        ports: ports.map((p) => p.port),
        ...(consumer ? { consumerNamespace: routeNamespace } : {}),
      },
    },
  };
}

function gatewayParent(
  ref: ParentReference,
  kind: RouteKind,
  route: HTTPRoute | GRPCRoute,
  gateway: Gateway | undefined,
  namespaceLabels: (ns: string) => Record<string, string>,
): Decided {
  const what = `Gateway ${ref.namespace}/${ref.name}`;
  const notAccepted = (reason: string, message: string) => ({
    accepted: condition('Accepted', false, reason, message),
  });
  if (!gateway) return notAccepted('NoMatchingParent', `${what} not found`);
  const listeners = gateway.spec.listeners.filter(
    (l) =>
      (ref.sectionName === undefined || l.name === ref.sectionName) &&
      (ref.port === undefined || l.port === ref.port),
  );
  if (listeners.length === 0)
    return notAccepted(
      'NoMatchingParent',
      `${what} has no ${ref.sectionName !== undefined ? `listener named "${ref.sectionName}"` : `listener on port ${ref.port}`}`,
    );
  const routeNs = route.metadata.namespace;
  const labels = namespaceLabels(routeNs);
  const allowed = listeners.filter(
    (l) =>
      allowsKind(l, kind) &&
      allowsNamespace(l.allowedRoutes.namespaces, gateway.metadata.namespace, routeNs, labels),
  );
  if (allowed.length === 0) {
    const kindRefused = listeners.every((l) => !allowsKind(l, kind));
    return notAccepted(
      'NotAllowedByListeners',
      kindRefused
        ? `the listeners of ${what} do not allow ${kind}s (spec.listeners[].allowedRoutes.kinds)`
        : `the listeners of ${what} do not allow ${kind}s from namespace ${routeNs}: they allow ${describeAllowed(listeners[0]!.allowedRoutes.namespaces)} (spec.listeners[].allowedRoutes)`,
    );
  }
  const hostnamed = allowed.filter((l) => hostnamesIntersect(l, route.spec.hostnames));
  if (hostnamed.length === 0)
    return notAccepted(
      'NoMatchingListenerHostname',
      `no hostname of the route matches the hostname of the listeners of ${what}`,
    );
  return {
    accepted: condition(
      'Accepted',
      true,
      'Accepted',
      `attached to waypoint ${ref.namespace}/${ref.name}`,
    ),
    target: {
      gateway: { key: `${ref.namespace}/${ref.name}`, listeners: hostnamed.map((l) => l.name) },
    },
  };
}

/** A listener without a hostname takes any route; else some route hostname must match it. */
function hostnamesIntersect(l: GatewayListener, hostnames: readonly string[]): boolean {
  if (l.hostname === undefined || hostnames.length === 0) return true;
  const matches = (pattern: string, name: string) =>
    pattern === name ||
    (pattern.startsWith('*.') && name.endsWith(pattern.slice(1))) ||
    (name.startsWith('*.') && pattern.endsWith(name.slice(1)));
  return hostnames.some((h) => matches(l.hostname!, h));
}

/** ResolvedRefs of a route under one parent kind: the first backendRef that does not resolve. */
function resolvedRefs(
  route: HTTPRoute | GRPCRoute,
  crossNamespace: boolean,
  state: EnvoyState,
): RouteCondition {
  const source = { kind: 'HTTPRoute' as const, namespace: route.metadata.namespace, name: '' };
  for (const rule of route.spec.rules)
    for (const ref of rule.backendRefs) {
      const d = decideBackend(
        ref,
        source,
        crossNamespace,
        state.services,
        state.options.domainSuffix,
      );
      if (!d.ok) return condition('ResolvedRefs', false, d.reason, d.problem);
      if (d.problem) return condition('ResolvedRefs', false, 'BackendNotFound', d.problem);
    }
  return condition('ResolvedRefs', true, 'ResolvedRefs', 'all backendRefs resolved');
}

/** Route hostnames against the service's names: full, `<name>.<ns>`, `<name>.<ns>.svc`, or a `*.` wildcard. */
function hostnameCovers(pattern: string, service: ServiceInfo): boolean {
  const names = [
    service.hostname,
    `${service.name}.${service.namespace}`,
    `${service.name}.${service.namespace}.svc`,
  ];
  if (pattern.startsWith('*.')) return names.some((n) => n.endsWith(pattern.slice(1)));
  return names.includes(pattern);
}
