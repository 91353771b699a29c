// Gateway API v1 Gateway, HTTPRoute and GRPCRoute: raw objects -> typed records with the spec's
// defaults (model/gateway-api.ts). A field of the wrong JSON type, or a required one missing,
// rejects the object (the API server's schema would have); values the spec does not know are kept
// for the translators to report. `status` is read leniently: entries that do not fit are left out.
// Pure.
import type { LabelSelector } from '../../model/kube.js';
import {
  GATEWAY_GROUP,
  type BackendObjectReference,
  type BackendRef,
  type FrontendTls,
  type Gateway,
  type GatewayAddress,
  type GatewayTls,
  type GatewayClass,
  type GatewayListener,
  type ListenerSet,
  type GRPCRoute,
  type GRPCRouteMatch,
  type GRPCRouteRule,
  type HeaderMatch,
  type HeaderModifier,
  type HTTPCORSFilter,
  type HTTPRoute,
  type HTTPRouteMatch,
  type HTTPRouteRule,
  type L4RouteRule,
  type ParentReference,
  type ReferenceGrant,
  type TCPRoute,
  type TLSRoute,
  type PathModifier,
  type RouteFilter,
  type RouteParentStatus,
  type StatusCondition,
  type WrittenParentReference,
} from '../../model/gateway-api.js';
import { checkMeta } from './meta.js';
import {
  at,
  int,
  lenient,
  lenientList,
  list,
  map,
  name,
  optBool,
  optInt,
  optMap,
  optPort,
  port,
  optStr,
  str,
  stringMap,
  strings,
  type Fields,
  type Read,
} from './reader.js';

/** Only the keys whose value is set (so records compare and print as written). */
export function defined<T extends object>(o: T): T {
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k];
  return o;
}

/** The core group may be written `""` or `core`. */
export const coreGroup = (group: string) => (group === 'core' ? '' : group);

export const labelSelector: Read<LabelSelector> = (v, path) => {
  const m = map(v, path);
  return defined({
    matchLabels:
      m.matchLabels === undefined ? undefined : stringMap(m.matchLabels, `${path}.matchLabels`),
    matchExpressions:
      m.matchExpressions === undefined
        ? undefined
        : list(m.matchExpressions, `${path}.matchExpressions`, (e, p) => {
            const x = map(e, p);
            return defined({
              key: str(x.key, `${p}.key`),
              operator: str(x.operator, `${p}.operator`),
              values: x.values === undefined ? undefined : strings(x.values, `${p}.values`),
            });
          }),
  });
};

export const statusCondition: Read<StatusCondition> = (v, path) => {
  const m = map(v, path);
  return defined({
    type: str(m.type, `${path}.type`),
    status: str(m.status, `${path}.status`),
    reason: optStr(m.reason, `${path}.reason`),
    message: optStr(m.message, `${path}.message`),
    observedGeneration: optInt(m.observedGeneration, `${path}.observedGeneration`),
    lastTransitionTime: optStr(m.lastTransitionTime, `${path}.lastTransitionTime`),
  });
};

const gatewayAddress: Read<GatewayAddress> = (v, path) => {
  const m = map(v, path);
  return {
    type: optStr(m.type, `${path}.type`) || 'IPAddress',
    // An IPAddress entry may leave the value out: the implementation assigns one.
    value: optStr(m.value, `${path}.value`) ?? '',
  };
};

function listener(gatewayNamespace: string): Read<GatewayListener> {
  return (v, path) => listenerIn(gatewayNamespace, v, path);
}

function listenerIn(gatewayNamespace: string, v: unknown, path: string): GatewayListener {
  const m = map(v, path);
  const tls = opt(m, 'tls', path, (x, p) => {
    const t = map(x, p);
    return {
      mode: optStr(t.mode, `${p}.mode`) || 'Terminate',
      certificateRefs: list(t.certificateRefs, `${p}.certificateRefs`, (r, rp) =>
        objectRef(gatewayNamespace, 'Secret', r, rp),
      ),
    };
  });
  const allowed = optMap(m.allowedRoutes, `${path}.allowedRoutes`);
  const namespaces = optMap(allowed.namespaces, `${path}.allowedRoutes.namespaces`);
  const from = optStr(namespaces.from, `${path}.allowedRoutes.namespaces.from`) || 'Same';
  const selector =
    namespaces.selector === undefined || namespaces.selector === null
      ? undefined
      : labelSelector(namespaces.selector, `${path}.allowedRoutes.namespaces.selector`);
  return defined({
    name: name(m.name, `${path}.name`),
    port: port(m.port, `${path}.port`),
    protocol: name(m.protocol, `${path}.protocol`),
    hostname: optStr(m.hostname, `${path}.hostname`),
    tls,
    allowedRoutes: {
      namespaces: defined({ from, selector }),
      kinds: list(allowed.kinds, `${path}.allowedRoutes.kinds`, (k, p) => {
        const x = map(k, p);
        return {
          group: optStr(x.group, `${p}.group`) ?? GATEWAY_GROUP,
          kind: name(x.kind, `${p}.kind`),
        };
      }),
    },
  });
}

/** An object reference with its defaults (core group, `namespace`); `kind` defaults to `kind`. */
function objectRef(namespace: string, kind: string, v: unknown, path: string) {
  const c = map(v, path);
  return {
    group: coreGroup(optStr(c.group, `${path}.group`) ?? ''),
    kind: optStr(c.kind, `${path}.kind`) || kind,
    name: name(c.name, `${path}.name`),
    namespace: optStr(c.namespace, `${path}.namespace`) || namespace,
  };
}

function frontendTls(namespace: string, v: unknown, path: string): FrontendTls {
  const m = map(v, path);
  return defined({
    validation: opt(m, 'validation', path, (x, p) => {
      const val = map(x, p);
      return {
        caCertificateRefs: list(val.caCertificateRefs, `${p}.caCertificateRefs`, (r, rp) =>
          objectRef(namespace, '', r, rp),
        ),
        mode: optStr(val.mode, `${p}.mode`) || 'AllowValidOnly',
      };
    }),
  });
}

function gatewayTls(namespace: string, v: unknown, path: string): GatewayTls {
  const m = map(v, path);
  return defined({
    frontend: opt(m, 'frontend', path, (x, p) => {
      const f = map(x, p);
      return {
        default: frontendTls(namespace, f.default ?? {}, `${p}.default`),
        perPort: list(f.perPort, `${p}.perPort`, (e, ep) => {
          const pp = map(e, ep);
          return {
            port: port(pp.port, `${ep}.port`),
            tls: frontendTls(namespace, pp.tls ?? {}, `${ep}.tls`),
          };
        }),
      };
    }),
    backend: opt(m, 'backend', path, (x, p) =>
      defined({
        clientCertificateRef: opt(map(x, p), 'clientCertificateRef', p, (r, rp) =>
          objectRef(namespace, 'Secret', r, rp),
        ),
      }),
    ),
  });
}

export function toGateway(o: Fields): Gateway {
  const metadata = checkMeta(o, true);
  const spec = optMap(o.spec, 'spec');
  const status = lenient(() => optMap(o.status, 'status')) ?? {};
  const infrastructure = opt(spec, 'infrastructure', 'spec', (x, p) => {
    const i = map(x, p);
    return defined({
      labels: stringMap(i.labels, `${p}.labels`),
      annotations: stringMap(i.annotations, `${p}.annotations`),
      parametersRef: opt(i, 'parametersRef', p, (r, rp) => {
        const ref = map(r, rp);
        return {
          group: coreGroup(str(ref.group, `${rp}.group`)),
          kind: name(ref.kind, `${rp}.kind`),
          name: name(ref.name, `${rp}.name`),
        };
      }),
    });
  });
  const allowedListeners = optMap(
    optMap(spec.allowedListeners, 'spec.allowedListeners').namespaces,
    'spec.allowedListeners.namespaces',
  );
  return {
    metadata,
    spec: defined({
      gatewayClassName: name(spec.gatewayClassName, 'spec.gatewayClassName'),
      listeners: list(spec.listeners, 'spec.listeners', listener(metadata.namespace)),
      addresses: list(spec.addresses, 'spec.addresses', gatewayAddress),
      infrastructure,
      allowedListeners: defined({
        from: optStr(allowedListeners.from, 'spec.allowedListeners.namespaces.from') || 'None',
        selector:
          allowedListeners.selector === undefined || allowedListeners.selector === null
            ? undefined
            : labelSelector(allowedListeners.selector, 'spec.allowedListeners.namespaces.selector'),
      }),
      tls: opt(spec, 'tls', 'spec', (x, p) => gatewayTls(metadata.namespace, x, p)),
    }),
    status: {
      addresses: lenientList(status.addresses, 'status.addresses', gatewayAddress),
      conditions: lenientList(status.conditions, 'status.conditions', statusCondition),
      listeners: listenerStatuses(status),
    },
  };
}

/** `status.listeners` as written last (names and conditions), leniently. */
function listenerStatuses(
  status: Fields,
): { name: string; conditions: ReturnType<typeof statusCondition>[] }[] {
  return lenientList(status.listeners, 'status.listeners', (v, p) => {
    const m = map(v, p);
    return {
      name: str(m.name, `${p}.name`),
      conditions: lenientList(m.conditions, `${p}.conditions`, statusCondition),
    };
  });
}

export function toListenerSet(o: Fields): ListenerSet {
  const metadata = checkMeta(o, true);
  const spec = optMap(o.spec, 'spec');
  const status = lenient(() => optMap(o.status, 'status')) ?? {};
  const ref = map(spec.parentRef, 'spec.parentRef');
  return {
    metadata,
    spec: {
      parentRef: {
        group: optStr(ref.group, 'spec.parentRef.group') ?? GATEWAY_GROUP,
        kind: optStr(ref.kind, 'spec.parentRef.kind') || 'Gateway',
        namespace: optStr(ref.namespace, 'spec.parentRef.namespace') || metadata.namespace,
        name: name(ref.name, 'spec.parentRef.name'),
      },
      listeners: list(spec.listeners, 'spec.listeners', listener(metadata.namespace)),
    },
    status: {
      conditions: lenientList(status.conditions, 'status.conditions', statusCondition),
      listeners: listenerStatuses(status),
    },
  };
}

const writtenParentRef: Read<WrittenParentReference> = (v, path) => {
  const m = map(v, path);
  return defined({
    group: optStr(m.group, `${path}.group`),
    kind: optStr(m.kind, `${path}.kind`),
    namespace: optStr(m.namespace, `${path}.namespace`),
    name: name(m.name, `${path}.name`),
    sectionName: optStr(m.sectionName, `${path}.sectionName`),
    port: optPort(m.port, `${path}.port`),
  });
};

function parentRef(routeNamespace: string): Read<ParentReference> {
  return (v, path) => {
    const written = writtenParentRef(v, path);
    return defined({
      group: coreGroup(written.group ?? GATEWAY_GROUP),
      kind: written.kind || 'Gateway',
      namespace: written.namespace || routeNamespace,
      name: written.name,
      sectionName: written.sectionName,
      port: written.port,
      written,
    });
  };
}

const headerMatch: Read<HeaderMatch> = (v, path) => {
  const m = map(v, path);
  return {
    type: optStr(m.type, `${path}.type`) || 'Exact',
    name: str(m.name, `${path}.name`),
    value: str(m.value, `${path}.value`),
  };
};

const httpMatch: Read<HTTPRouteMatch> = (v, path) => {
  const m = map(v, path);
  const p = optMap(m.path, `${path}.path`);
  return defined({
    path: {
      type: optStr(p.type, `${path}.path.type`) || 'PathPrefix',
      value: optStr(p.value, `${path}.path.value`) ?? '/',
    },
    headers: list(m.headers, `${path}.headers`, headerMatch),
    queryParams: list(m.queryParams, `${path}.queryParams`, headerMatch),
    method: optStr(m.method, `${path}.method`),
  });
};

const DEFAULT_HTTP_MATCH: HTTPRouteMatch = Object.freeze({
  path: Object.freeze({ type: 'PathPrefix', value: '/' }),
  headers: Object.freeze([]),
  queryParams: Object.freeze([]),
});

const grpcMatch: Read<GRPCRouteMatch> = (v, path) => {
  const m = map(v, path);
  const method =
    m.method === undefined || m.method === null
      ? undefined
      : (() => {
          const x = map(m.method, `${path}.method`);
          return defined({
            type: optStr(x.type, `${path}.method.type`) || 'Exact',
            service: optStr(x.service, `${path}.method.service`),
            method: optStr(x.method, `${path}.method.method`),
          });
        })();
  return defined({ method, headers: list(m.headers, `${path}.headers`, headerMatch) });
};

const DEFAULT_GRPC_MATCH: GRPCRouteMatch = Object.freeze({ headers: Object.freeze([]) });

const nameValue = (v: unknown, path: string) => {
  const m = map(v, path);
  return { name: str(m.name, `${path}.name`), value: str(m.value, `${path}.value`) };
};

const headerModifier: Read<HeaderModifier> = (v, path) => {
  const m = map(v, path);
  return {
    set: list(m.set, `${path}.set`, nameValue),
    add: list(m.add, `${path}.add`, nameValue),
    remove: strings(m.remove, `${path}.remove`),
  };
};

const corsFilter: Read<HTTPCORSFilter> = (v, path) => {
  const m = map(v, path);
  return defined({
    allowOrigins: strings(m.allowOrigins, `${path}.allowOrigins`),
    allowCredentials: optBool(m.allowCredentials, `${path}.allowCredentials`),
    allowMethods: strings(m.allowMethods, `${path}.allowMethods`),
    allowHeaders: strings(m.allowHeaders, `${path}.allowHeaders`),
    exposeHeaders: strings(m.exposeHeaders, `${path}.exposeHeaders`),
    maxAge: optInt(m.maxAge, `${path}.maxAge`),
  });
};

const pathModifier: Read<PathModifier> = (v, path) => {
  const m = map(v, path);
  return defined({
    type: name(m.type, `${path}.type`),
    replaceFullPath: optStr(m.replaceFullPath, `${path}.replaceFullPath`),
    replacePrefixMatch: optStr(m.replacePrefixMatch, `${path}.replacePrefixMatch`),
  });
};

function backendObjectRef(routeNamespace: string): Read<BackendObjectReference> {
  return (v, path) => {
    const m = map(v, path);
    return defined({
      group: coreGroup(optStr(m.group, `${path}.group`) ?? ''),
      kind: optStr(m.kind, `${path}.kind`) || 'Service',
      name: name(m.name, `${path}.name`),
      namespace: optStr(m.namespace, `${path}.namespace`) || routeNamespace,
      port: optPort(m.port, `${path}.port`),
    });
  };
}

/** Reads `m[field]` with `read` when it is set. */
function opt<T>(m: Fields, field: string, path: string, read: Read<T>): T | undefined {
  const v = m[field];
  return v === undefined || v === null ? undefined : read(v, at(path, field));
}

function routeFilter(routeNamespace: string): Read<RouteFilter> {
  const backend = backendObjectRef(routeNamespace);
  return (v, path) => {
    const m = map(v, path);
    return defined({
      type: name(m.type, `${path}.type`),
      requestHeaderModifier: opt(m, 'requestHeaderModifier', path, headerModifier),
      responseHeaderModifier: opt(m, 'responseHeaderModifier', path, headerModifier),
      requestRedirect: opt(m, 'requestRedirect', path, (x, p) => {
        const r = map(x, p);
        return defined({
          scheme: optStr(r.scheme, `${p}.scheme`),
          hostname: optStr(r.hostname, `${p}.hostname`),
          path: opt(r, 'path', p, pathModifier),
          port: optInt(r.port, `${p}.port`),
          statusCode: optInt(r.statusCode, `${p}.statusCode`) ?? 302,
        });
      }),
      urlRewrite: opt(m, 'urlRewrite', path, (x, p) => {
        const r = map(x, p);
        return defined({
          hostname: optStr(r.hostname, `${p}.hostname`),
          path: opt(r, 'path', p, pathModifier),
        });
      }),
      requestMirror: opt(m, 'requestMirror', path, (x, p) => {
        const r = map(x, p);
        return defined({
          backendRef: backend(r.backendRef, `${p}.backendRef`),
          percent: optInt(r.percent, `${p}.percent`),
          fraction: opt(r, 'fraction', p, (f, fp) => {
            const fr = map(f, fp);
            return {
              numerator: int(fr.numerator, `${fp}.numerator`),
              denominator: optInt(fr.denominator, `${fp}.denominator`) ?? 100,
            };
          }),
        });
      }),
      cors: opt(m, 'cors', path, corsFilter),
      extensionRef: opt(m, 'extensionRef', path, (x, p) => {
        const r = map(x, p);
        return {
          group: optStr(r.group, `${p}.group`) ?? '',
          kind: str(r.kind, `${p}.kind`),
          name: str(r.name, `${p}.name`),
        };
      }),
    });
  };
}

function backendRef(routeNamespace: string): Read<BackendRef> {
  const object = backendObjectRef(routeNamespace);
  const filter = routeFilter(routeNamespace);
  return (v, path) => {
    const m = map(v, path);
    return {
      ...object(m, path),
      weight: optInt(m.weight, `${path}.weight`) ?? 1,
      filters: list(m.filters, `${path}.filters`, filter),
    };
  };
}

function httpRule(routeNamespace: string): Read<HTTPRouteRule> {
  const filter = routeFilter(routeNamespace);
  const backend = backendRef(routeNamespace);
  return (v, path) => {
    const m = map(v, path);
    const matches = list(m.matches, `${path}.matches`, httpMatch);
    return defined({
      name: optStr(m.name, `${path}.name`),
      matches: matches.length > 0 ? matches : [DEFAULT_HTTP_MATCH],
      filters: list(m.filters, `${path}.filters`, filter),
      backendRefs: list(m.backendRefs, `${path}.backendRefs`, backend),
      timeouts: opt(m, 'timeouts', path, (x, p) => {
        const t = map(x, p);
        return defined({
          request: optStr(t.request, `${p}.request`),
          backendRequest: optStr(t.backendRequest, `${p}.backendRequest`),
        });
      }),
      retry: opt(m, 'retry', path, (x, p) => {
        const r = map(x, p);
        return defined({
          codes: list(r.codes, `${p}.codes`, int),
          attempts: optInt(r.attempts, `${p}.attempts`) ?? 2,
          backoff: optStr(r.backoff, `${p}.backoff`),
        });
      }),
    });
  };
}

function grpcRule(routeNamespace: string): Read<GRPCRouteRule> {
  const filter = routeFilter(routeNamespace);
  const backend = backendRef(routeNamespace);
  return (v, path) => {
    const m = map(v, path);
    const matches = list(m.matches, `${path}.matches`, grpcMatch);
    return defined({
      name: optStr(m.name, `${path}.name`),
      matches: matches.length > 0 ? matches : [DEFAULT_GRPC_MATCH],
      filters: list(m.filters, `${path}.filters`, filter),
      backendRefs: list(m.backendRefs, `${path}.backendRefs`, backend),
    });
  };
}

const parentStatus: Read<RouteParentStatus> = (v, path) => {
  const m = map(v, path);
  return {
    parentRef: writtenParentRef(m.parentRef, `${path}.parentRef`),
    controllerName: str(m.controllerName, `${path}.controllerName`),
    conditions: lenientList(m.conditions, `${path}.conditions`, statusCondition),
  };
};

function route<Rule>(o: Fields, rule: (ns: string) => Read<Rule>) {
  const metadata = checkMeta(o, true);
  const spec = optMap(o.spec, 'spec');
  const status = lenient(() => optMap(o.status, 'status')) ?? {};
  return {
    metadata,
    spec: {
      parentRefs: list(spec.parentRefs, 'spec.parentRefs', parentRef(metadata.namespace)),
      hostnames: strings(spec.hostnames, 'spec.hostnames'),
      rules: list(spec.rules, 'spec.rules', rule(metadata.namespace)),
    },
    status: { parents: lenientList(status.parents, 'status.parents', parentStatus) },
  };
}

export function toHTTPRoute(o: Fields): HTTPRoute {
  return route(o, httpRule);
}

export function toGRPCRoute(o: Fields): GRPCRoute {
  return route(o, grpcRule);
}

function l4Rule(routeNamespace: string): Read<L4RouteRule> {
  const backend = backendRef(routeNamespace);
  return (v, path) => {
    const m = map(v, path);
    return defined({
      name: optStr(m.name, `${path}.name`),
      backendRefs: list(m.backendRefs, `${path}.backendRefs`, backend),
    });
  };
}

export function toTLSRoute(o: Fields): TLSRoute {
  return route(o, l4Rule);
}

export function toTCPRoute(o: Fields): TCPRoute {
  return route(o, l4Rule);
}

export function toGatewayClass(o: Fields): GatewayClass {
  const metadata = checkMeta(o, false);
  const spec = optMap(o.spec, 'spec');
  const status = lenient(() => optMap(o.status, 'status')) ?? {};
  return {
    metadata,
    spec: { controllerName: name(spec.controllerName, 'spec.controllerName') },
    status: {
      conditions: lenientList(status.conditions, 'status.conditions', statusCondition),
      supportedFeatures: lenientList(
        status.supportedFeatures,
        'status.supportedFeatures',
        (v, p) => ({
          name: str(map(v, p).name, `${p}.name`),
        }),
      ),
    },
  };
}

export function toReferenceGrant(o: Fields): ReferenceGrant {
  const metadata = checkMeta(o, true);
  const spec = optMap(o.spec, 'spec');
  return {
    metadata,
    spec: {
      from: list(spec.from, 'spec.from', (v, p) => {
        const m = map(v, p);
        return {
          group: coreGroup(str(m.group, `${p}.group`)),
          kind: name(m.kind, `${p}.kind`),
          namespace: name(m.namespace, `${p}.namespace`),
        };
      }),
      to: list(spec.to, 'spec.to', (v, p) => {
        const m = map(v, p);
        return defined({
          group: coreGroup(str(m.group, `${p}.group`)),
          kind: name(m.kind, `${p}.kind`),
          name: optStr(m.name, `${p}.name`),
        });
      }),
    },
  };
}
