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
// - Gateway parent of an ingress class (`gatewayClasses`): the usable listeners (gateway-listeners.ts)
//   picked by `sectionName` / `port` whose supported kinds include the route's, that allow its
//   namespace and whose hostname matches; TLSRoutes and TCPRoutes attach only there.
// - backendRefs may name Services in other namespaces from a Service parent (GAMMA needs no
//   ReferenceGrant); from a Gateway parent only when a ReferenceGrant allows it, else they are
//   refused (RefNotPermitted) and their share of requests fails.
import { allowsKind, allowsNamespace, describeAllowed } from '../../collections/allowed-routes.js';
import { createdMs, labelsOf } from '../../collections/meta.js';
import {
  GATEWAY_GROUP,
  type Gateway,
  type GatewayListener,
  type GRPCRoute,
  type ListenerSet,
  type HTTPRoute,
  type ParentReference,
  type TCPRoute,
  type TLSRoute,
} from '../../model/gateway-api.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import { backendGranted, decideBackend } from './backends.js';
import { gatewayDecision, isIngressGateway } from './gateway-listeners.js';
import type { RouteSource } from './route-context.js';
import { routeRuleProblems } from './route-rules.js';
import type { EnvoyState } from './state.js';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute';

/** Every route kind this control plane attaches. */
export type AnyRoute = HTTPRoute | GRPCRoute | TLSRoute | TCPRoute;

/** A condition of a route parent before it is stamped with generation and time. */
export interface RouteCondition {
  readonly type: 'Accepted' | 'ResolvedRefs' | 'PartiallyInvalid';
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}

export interface AttachedRoute extends RouteSource {
  readonly object: AnyRoute;
  readonly parent: ParentReference;
  /** Gateway parents: the listeners it attached to. */
  readonly listeners?: readonly string[];
  /** creationTimestamp in ms; routes without one sort after those with one. */
  readonly createdMs: number;
}

/** The decision for one parentRef we are responsible for. */
export interface ParentResult {
  readonly parentRef: ParentReference;
  /** A Gateway of an ingress class (its status is the gateway controller's, not the waypoint's). */
  readonly ingress?: boolean;
  readonly conditions: readonly RouteCondition[];
  /** Accepted by a waypoint or ingress Gateway: `<ns>/<name>` and the listeners it attached to. */
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
  readonly object: AnyRoute;
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
  /** Routes attached to a Gateway (`<ns>/<name>`), each with the listeners it attached to. */
  forGateway(gatewayKey: string): readonly AttachedRoute[];
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
  const listenerSets = new Map<string, ListenerSet>();
  for (const ls of state.listenerSets ?? [])
    listenerSets.set(`${ls.metadata.namespace}/${ls.metadata.name}`, ls);
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

  const add = (kind: RouteKind, object: AnyRoute) => {
    const source = { kind, namespace: object.metadata.namespace, name: object.metadata.name };
    const created = createdMs(object);
    const l4 = kind === 'TLSRoute' || kind === 'TCPRoute';
    const problems = l4 ? [] : routeRuleProblems(object as HTTPRoute | GRPCRoute, kind);
    const parents: ParentResult[] = [];
    for (const parentRef of object.spec.parentRefs) {
      const isService = parentRef.group === '' && parentRef.kind === 'Service';
      const isGateway = parentRef.group === GATEWAY_GROUP && parentRef.kind === 'Gateway';
      const isListenerSet = parentRef.group === GATEWAY_GROUP && parentRef.kind === 'ListenerSet';
      if (!isService && !isGateway && !isListenerSet) continue; // another implementation's kind
      if (isService && l4) continue; // L4 routes attach to ingress Gateways only
      // A ListenerSet's routes attach to its listeners on its parent Gateway (ingress only).
      const listenerSet = isListenerSet
        ? listenerSets.get(`${parentRef.namespace}/${parentRef.name}`)
        : undefined;
      const setParent = listenerSet?.spec.parentRef;
      if (isListenerSet && !(setParent?.group === GATEWAY_GROUP && setParent.kind === 'Gateway'))
        continue; // unknown set, or one whose parent is not a Gateway: not ours to judge
      const gateway = isGateway
        ? gateways.get(`${parentRef.namespace}/${parentRef.name}`)
        : setParent
          ? gateways.get(`${setParent.namespace}/${setParent.name}`)
          : undefined;
      if (isListenerSet && (!gateway || !isIngressGateway(state, gateway))) continue;
      const ingress = gateway !== undefined && isIngressGateway(state, gateway);
      if (
        gateway &&
        !ingress &&
        (l4 || !state.options.waypointClasses.includes(gateway.spec.gatewayClassName))
      )
        continue; // another controller's Gateway
      const refs = resolvedRefs(object, kind, isService, state);
      const decided = isService
        ? serviceParent(parentRef, source.namespace, serviceByName)
        : ingress
          ? ingressParent(parentRef, kind, object, gateway, state, namespaceLabels, listenerSet)
          : gatewayParent(parentRef, kind, object, gateway, namespaceLabels);
      const route: AttachedRoute = {
        ...source,
        object,
        parent: parentRef,
        createdMs: created,
        ...(decided.target?.gateway ? { listeners: decided.target.gateway.listeners } : {}),
      };
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
      const result: ParentResult = {
        parentRef,
        ...(ingress ? { ingress } : {}),
        conditions,
        ...decided.target,
      };
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
  for (const r of state.tlsRoutes ?? []) add('TLSRoute', r);
  for (const r of state.tcpRoutes ?? []) add('TCPRoute', r);

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
    forGateway: (gatewayKey) => byGateway.get(gatewayKey) ?? [],
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
  route: AnyRoute,
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
  const ofKind = listeners.filter((l) => allowsKind(l, kind));
  if (ofKind.length === 0)
    return notAccepted(
      'NotAllowedByListeners',
      `the listeners of ${what} do not allow ${kind}s (spec.listeners[].allowedRoutes.kinds)`,
    );
  return attachToListeners(ref, kind, route, gateway, ofKind, namespaceLabels, 'waypoint');
}

/**
 * The last steps of attaching to a Gateway: of the listeners that take the route's kind, those
 * that allow its namespace, then those whose hostname meets one of the route's.
 */
function attachToListeners(
  ref: ParentReference,
  kind: RouteKind,
  route: AnyRoute,
  gateway: Gateway,
  listeners: readonly GatewayListener[],
  namespaceLabels: (ns: string) => Record<string, string>,
  role: 'waypoint' | 'gateway',
  listenerSet?: ListenerSet,
): Decided {
  const what = `${listenerSet ? 'ListenerSet' : 'Gateway'} ${ref.namespace}/${ref.name}`;
  const routeNs = route.metadata.namespace;
  // `Same` is the namespace of the listeners' owner: the Gateway, or the ListenerSet.
  const ownerNamespace = (listenerSet ?? gateway).metadata.namespace;
  const allowed = listeners.filter((l) =>
    allowsNamespace(l.allowedRoutes.namespaces, ownerNamespace, routeNs, namespaceLabels(routeNs)),
  );
  if (allowed.length === 0)
    return {
      accepted: condition(
        'Accepted',
        false,
        'NotAllowedByListeners',
        `the listeners of ${what} do not allow ${kind}s from namespace ${routeNs}: they allow ${describeAllowed(listeners[0]!.allowedRoutes.namespaces)} (spec.listeners[].allowedRoutes)`,
      ),
    };
  const hostnames = kind === 'TCPRoute' ? [] : route.spec.hostnames;
  const hostnamed = allowed.filter((l) => hostnamesIntersect(l, hostnames));
  if (hostnamed.length === 0)
    return {
      accepted: condition(
        'Accepted',
        false,
        'NoMatchingListenerHostname',
        `no hostname of the route matches the hostname of the listeners of ${what}`,
      ),
    };
  return {
    accepted: condition(
      'Accepted',
      true,
      'Accepted',
      `attached to ${role} ${gateway.metadata.namespace}/${gateway.metadata.name}${listenerSet ? ` through ListenerSet ${ref.namespace}/${ref.name}` : ''}`,
    ),
    target: {
      gateway: {
        key: `${gateway.metadata.namespace}/${gateway.metadata.name}`,
        listeners: hostnamed.map((l) => l.name),
      },
    },
  };
}

/**
 * A Gateway of an ingress class: the listeners `sectionName` / `port` pick, usable (accepted, not
 * conflicted), taking the route's kind and namespace, with a hostname the route's match.
 */
function ingressParent(
  ref: ParentReference,
  kind: RouteKind,
  route: AnyRoute,
  gateway: Gateway,
  state: EnvoyState,
  namespaceLabels: (ns: string) => Record<string, string>,
  listenerSet?: ListenerSet,
): Decided {
  const what = `${listenerSet ? 'ListenerSet' : 'Gateway'} ${ref.namespace}/${ref.name}`;
  const notAccepted = (reason: string, message: string) => ({
    accepted: condition('Accepted', false, reason, message),
  });
  const decision = gatewayDecision(state, gateway);
  const setKey = `${ref.namespace}/${ref.name}`;
  if (listenerSet && !decision.listenerSets.some((s) => s.key === setKey && s.allowed))
    return notAccepted(
      'NotAllowedByListeners',
      `${what} is not allowed on Gateway ${gateway.metadata.namespace}/${gateway.metadata.name} (its spec.allowedListeners)`,
    );
  // A Gateway parent picks the Gateway's own listeners, a ListenerSet parent the set's.
  const picked = decision.listeners.filter(
    (d) =>
      (listenerSet
        ? d.origin !== undefined && `${d.origin.namespace}/${d.origin.name}` === setKey
        : d.origin === undefined) &&
      (ref.sectionName === undefined ||
        (d.origin?.sectionName ?? d.listener.name) === ref.sectionName) &&
      (ref.port === undefined || d.listener.port === ref.port),
  );
  if (picked.length === 0)
    return notAccepted(
      'NoMatchingParent',
      `${what} has no ${ref.sectionName !== undefined ? `listener named "${ref.sectionName}"` : `listener on port ${ref.port}`}`,
    );
  const usable = picked.filter((d) => d.usable);
  if (usable.length === 0)
    return notAccepted(
      'NotAllowedByListeners',
      `the listeners of ${what} it names are not valid (not accepted or conflicted; see the Gateway status)`,
    );
  const ofKind = usable.filter((d) => d.supportedKinds.some((k) => k.kind === kind));
  if (ofKind.length === 0)
    return notAccepted(
      'NotAllowedByListeners',
      `the listeners of ${what} do not take ${kind}s (their protocol or spec.listeners[].allowedRoutes.kinds)`,
    );
  return attachToListeners(
    ref,
    kind,
    route,
    gateway,
    ofKind.map((d) => d.listener),
    namespaceLabels,
    'gateway',
    listenerSet,
  );
}

/** A listener without a hostname takes any route; else some route hostname must match it. */
function hostnamesIntersect(l: GatewayListener, hostnames: readonly string[]): boolean {
  if (l.hostname === undefined || hostnames.length === 0) return true;
  return hostnames.some((h) => hostnameIntersection(l.hostname!, h) !== undefined);
}

/**
 * The hostnames a route hostname serves under a listener hostname (Gateway API): equal names, or
 * the more specific of a name and a `*.` wildcard covering it; undefined when they do not meet.
 */
export function hostnameIntersection(listener: string, route: string): string | undefined {
  if (listener === route) return route;
  if (listener.startsWith('*.') && route.endsWith(listener.slice(1))) return route;
  if (route.startsWith('*.') && listener.endsWith(route.slice(1))) return listener;
  return undefined;
}

/** ResolvedRefs of a route under one parent kind: the first backendRef that does not resolve. */
function resolvedRefs(
  route: AnyRoute,
  kind: RouteKind,
  serviceParent: boolean,
  state: EnvoyState,
): RouteCondition {
  const source = { kind, namespace: route.metadata.namespace, name: route.metadata.name };
  for (const rule of route.spec.rules)
    for (const ref of rule.backendRefs) {
      const d = decideBackend(
        ref,
        source,
        serviceParent || backendGranted(state.referenceGrants, source, ref),
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
