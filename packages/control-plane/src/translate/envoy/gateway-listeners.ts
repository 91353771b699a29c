// The decision on each listener of an ingress Gateway (a Gateway of one of `gatewayClasses`):
// whether it is accepted, conflicts with another listener on its port, which route kinds it takes,
// and which certificates it serves. Route attachment, the gateway's Envoy resources and the
// Gateway status all read this one decision, so they cannot disagree. Pure; cached per state and
// Gateway object.
import type { CaConfigMap } from '../../model/backend-tls-policy.js';
import {
  GATEWAY_GROUP,
  type Gateway,
  type GatewayListener,
  type ListenerSet,
  type RouteGroupKind,
  type SecretObjectReference,
} from '../../model/gateway-api.js';
import { tlsSecretProblem, type TlsSecret } from '../../model/secret.js';
import { allowsNamespace } from '../../collections/allowed-routes.js';
import { labelsOf, oldestFirst } from '../../collections/meta.js';
import { gatewayAddressProblem } from './gateway-addresses.js';
import { caProblem } from './backend-tls.js';
import { referenceAllowed } from './reference-grants.js';
import type { RouteCondition } from './route-attachment.js';
import type { EnvoyState } from './state.js';

/**
 * Ports the gateway's proxy binds itself (its admin server, metrics and readiness probe): a
 * listener on one could never bind, and its Service port would clash with the proxy's own.
 */
export const GATEWAY_PROXY_PORTS: ReadonlyMap<number, string> = new Map([
  [15000, 'admin'],
  [15020, 'metrics'],
  [15021, 'readiness'],
]);

/** Listener protocols an ingress gateway serves, and the route kinds each takes. */
export const PROTOCOL_ROUTE_KINDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
});

/** Listeners that can share a port: plain HTTP by Host, HTTPS and TLS by SNI, TCP alone. */
export type PortGroup = 'http' | 'tls' | 'tcp';

export interface ListenerCondition {
  readonly type: 'Accepted' | 'Programmed' | 'ResolvedRefs' | 'Conflicted';
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}

/** Where a listener of a ListenerSet comes from: the set, and the listener's name in it. */
export interface ListenerOrigin {
  readonly namespace: string;
  readonly name: string;
  readonly sectionName: string;
}

export interface ListenerDecision {
  /** A ListenerSet's listener carries the unique name `<set namespace>/<set name>/<listener>`. */
  readonly listener: GatewayListener;
  /** Set for a listener of a ListenerSet. */
  readonly origin?: ListenerOrigin;
  readonly group?: PortGroup;
  /** The route kinds the listener takes (`status.listeners[].supportedKinds`). */
  readonly supportedKinds: readonly RouteGroupKind[];
  readonly conditions: readonly ListenerCondition[];
  /** Accepted and not conflicted: routes may attach and it is served when programmed. */
  readonly usable: boolean;
  /** Usable and, for TLS termination, with at least one certificate: served. */
  readonly programmed: boolean;
  /** TLS termination: the Secrets served (SDS names `kubernetes://<ns>/<name>`), in ref order. */
  readonly certificates: readonly string[];
  /** TLS passthrough (protocol TLS, mode Passthrough); protocol TLS otherwise terminates. */
  readonly passthrough: boolean;
  /**
   * HTTPS with `spec.tls.frontend` validation for its port: the PEM CA certificates that resolved
   * (joined) and whether a client without a valid certificate is still let in.
   */
  readonly clientValidation?: { readonly caPem: string; readonly insecureFallback: boolean };
}

export interface GatewayDecision {
  readonly gateway: Gateway;
  readonly key: string;
  /** Gateway `Accepted`. */
  readonly accepted: RouteCondition;
  /** Some HTTPS listener's client certificate validation is in mode AllowInsecureFallback. */
  readonly insecureFrontendValidation: boolean;
  /** Gateway `ResolvedRefs`, when it refers to something of its own (spec.tls.backend). */
  readonly resolvedRefs?: RouteCondition;
  /** spec.tls.backend.clientCertificateRef, resolved: presented on TLS to backends (BackendTLSPolicy). */
  readonly backendClientCertificate?: {
    readonly certificateChain: string;
    readonly privateKey: string;
  };
  /** The Gateway's listeners, then those of its allowed ListenerSets (oldest set first). */
  readonly listeners: readonly ListenerDecision[];
  /** The ListenerSets naming this Gateway as their parent, oldest first. */
  readonly listenerSets: readonly ListenerSetDecision[];
}

export interface ListenerSetDecision {
  readonly listenerSet: ListenerSet;
  /** `<namespace>/<name>`. */
  readonly key: string;
  /** The Gateway's spec.allowedListeners admits its namespace (else reason NotAllowed). */
  readonly allowed: boolean;
  /**
   * Allowed and with at least one valid listener (programmed: accepted, not conflicted, its
   * certificates resolved): Accepted, and counted in status.attachedListenerSets.
   */
  readonly attached: boolean;
}

/** Istio's annotation choosing the gateway Service's type. */
export const ANNOTATION_SERVICE_TYPE = 'networking.istio.io/service-type';
export const SERVICE_TYPES: readonly string[] = ['ClusterIP', 'NodePort', 'LoadBalancer'];

/**
 * Why the Gateway's own deployment settings cannot be used, if they cannot: the service-type
 * annotation, and `spec.infrastructure.parametersRef` (a ConfigMap only; its content is read by
 * the deployer).
 */
export function gatewayParametersProblem(gw: Gateway): string | undefined {
  const type = gw.metadata.annotations?.[ANNOTATION_SERVICE_TYPE];
  if (type !== undefined && !SERVICE_TYPES.includes(type))
    return `annotation ${ANNOTATION_SERVICE_TYPE}: must be one of ${SERVICE_TYPES.join(', ')}, got "${type}"`;
  const ref = gw.spec.infrastructure?.parametersRef;
  if (ref && (ref.group !== '' || ref.kind !== 'ConfigMap'))
    return `spec.infrastructure.parametersRef: only a ConfigMap (group "", kind ConfigMap) is supported, got ${ref.group ? `${ref.group}/` : ''}${ref.kind}`;
  return undefined;
}

/** The SDS resource name of a Secret (Istio's). */
export function sdsSecretName(namespace: string, name: string): string {
  return `kubernetes://${namespace}/${name}`;
}

/** The controller of the ingress GatewayClasses. */
export const GATEWAY_CONTROLLER = 'trellis.dev/gateway-controller';

/**
 * A Gateway of an ingress class (`gatewayClasses`) whose GatewayClass, if it exists, names our
 * controller: Istio's own `istio` class (controller `istio.io/gateway-controller`) is left to it.
 */
export function isIngressGateway(
  state: Pick<EnvoyState, 'options' | 'gatewayClasses'>,
  gw: Gateway,
): boolean {
  const name = gw.spec.gatewayClassName;
  if (!state.options.gatewayClasses.includes(name)) return false;
  const c = state.gatewayClasses?.find((x) => x.metadata.name === name);
  return c === undefined || c.spec.controllerName === GATEWAY_CONTROLLER;
}

const cache = new WeakMap<EnvoyState, WeakMap<Gateway, GatewayDecision>>();

export function gatewayDecision(state: EnvoyState, gw: Gateway): GatewayDecision {
  let perState = cache.get(state);
  if (!perState) cache.set(state, (perState = new WeakMap()));
  let d = perState.get(gw);
  if (!d) perState.set(gw, (d = decide(state, gw)));
  return d;
}

const byState = new WeakMap<EnvoyState, ReadonlyMap<string, Gateway>>();

/** The ingress Gateways of the state by `<ns>/<name>` (cached per state). */
export function ingressGateways(state: EnvoyState): ReadonlyMap<string, Gateway> {
  let out = byState.get(state);
  if (out) return out;
  const m = new Map<string, Gateway>();
  for (const g of state.gateways ?? [])
    if (isIngressGateway(state, g)) m.set(`${g.metadata.namespace}/${g.metadata.name}`, g);
  byState.set(state, (out = m));
  return out;
}

function groupOf(protocol: string): PortGroup | undefined {
  if (protocol === 'HTTP') return 'http';
  if (protocol === 'HTTPS' || protocol === 'TLS') return 'tls';
  if (protocol === 'TCP') return 'tcp';
  return undefined;
}

const cond = (
  type: ListenerCondition['type'],
  status: boolean,
  reason: string,
  message: string,
): ListenerCondition => ({ type, status, reason, message });

function decide(state: EnvoyState, gw: Gateway): GatewayDecision {
  const { namespace, name } = gw.metadata;
  const key = `${namespace}/${name}`;
  const secrets = new Map(
    (state.secrets ?? []).map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]),
  );
  const configMaps = new Map(
    (state.configMaps ?? []).map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c]),
  );
  // Conflicts: listeners of one port must be of one group; within it, one per hostname. The
  // first listener keeps the port or hostname (Gateway API), later ones are conflicted.
  const portGroup = new Map<number, PortGroup>();
  const taken = new Set<string>();
  const namespaces = new Map((state.namespaces ?? []).map((n) => [n.metadata?.name ?? '', n]));
  const sets = (state.listenerSets ?? [])
    .filter((ls) => {
      const p = ls.spec.parentRef;
      return (
        p.group === GATEWAY_GROUP &&
        p.kind === 'Gateway' &&
        p.namespace === namespace &&
        p.name === name
      );
    })
    .sort(oldestFirst)
    .map((ls) => ({
      ls,
      allowed: allowsNamespace(
        gw.spec.allowedListeners,
        namespace,
        ls.metadata.namespace,
        labelsOf(namespaces.get(ls.metadata.namespace)),
      ),
    }));
  // The Gateway's own listeners take precedence over those of its ListenerSets, and an older set
  // over a younger one (then by namespace and name).
  const merged: { l: GatewayListener; origin?: ListenerOrigin }[] = [
    ...gw.spec.listeners.map((l) => ({ l })),
    ...sets
      .filter((x) => x.allowed)
      .flatMap(({ ls }) =>
        ls.spec.listeners.map((l) => {
          const origin = {
            namespace: ls.metadata.namespace,
            name: ls.metadata.name,
            sectionName: l.name,
          };
          return { l: { ...l, name: `${origin.namespace}/${origin.name}/${l.name}` }, origin };
        }),
      ),
  ];
  const listeners = merged.map(({ l, origin }): ListenerDecision => {
    const group = groupOf(l.protocol);
    const protocolKinds = PROTOCOL_ROUTE_KINDS[l.protocol] ?? [];
    const listed = l.allowedRoutes.kinds;
    const invalidKinds = listed.filter(
      (k) => k.group !== GATEWAY_GROUP || !protocolKinds.includes(k.kind),
    );
    const passthrough = l.protocol === 'TLS' && (l.tls?.mode ?? 'Passthrough') === 'Passthrough';
    // TLS termination: HTTPS, and TLS in mode Terminate (its TLSRoutes get the decrypted stream).
    const terminates = l.protocol === 'HTTPS' || (l.protocol === 'TLS' && !passthrough);
    const conditions: ListenerCondition[] = [];
    let accepted: ListenerCondition;
    if (!group)
      accepted = cond(
        'Accepted',
        false,
        'UnsupportedProtocol',
        `protocol ${l.protocol} is not supported: use HTTP, HTTPS, TLS or TCP`,
      );
    else if (l.protocol === 'HTTPS' && l.tls?.mode === 'Passthrough')
      accepted = cond(
        'Accepted',
        false,
        'UnsupportedValue',
        'HTTPS listeners terminate TLS: use protocol TLS for tls.mode Passthrough',
      );
    else if ((l.protocol === 'HTTP' || l.protocol === 'TCP') && l.tls)
      accepted = cond(
        'Accepted',
        false,
        'UnsupportedValue',
        `tls is not allowed on ${l.protocol} listeners`,
      );
    else if (GATEWAY_PROXY_PORTS.has(l.port))
      accepted = cond(
        'Accepted',
        false,
        'PortUnavailable',
        `port ${l.port} is the gateway proxy's own (${GATEWAY_PROXY_PORTS.get(l.port)}): use another port`,
      );
    else accepted = cond('Accepted', true, 'Accepted', 'listener accepted');
    // Client certificate validation (spec.tls.frontend) of an HTTPS listener: without one CA
    // certificate that resolves, the listener is not accepted.
    const frontend = l.protocol === 'HTTPS' ? frontendValidation(gw, l.port) : undefined;
    const ca = frontend
      ? resolveCaRefs(state, configMaps, namespace, frontend.caCertificateRefs)
      : undefined;
    if (accepted.status && ca && ca.pems.length === 0)
      accepted = cond(
        'Accepted',
        false,
        'NoValidCACertificate',
        `no usable CA certificate for client certificate validation on port ${l.port}: ${ca.problems.map((p) => p.message).join('; ')}`,
      );
    conditions.push(accepted);
    // A listener whose protocol or TLS mode is not supported takes no route kinds at all.
    const supportedKinds = accepted.status
      ? (listed.length === 0
          ? protocolKinds.map((kind) => ({ group: GATEWAY_GROUP, kind }))
          : listed
        ).filter((k) => k.group === GATEWAY_GROUP && protocolKinds.includes(k.kind))
      : [];

    let conflicted: ListenerCondition = cond('Conflicted', false, 'NoConflicts', 'no conflicts');
    if (accepted.status && group) {
      const onPort = portGroup.get(l.port);
      const hostKey = `${l.port}\0${group === 'tcp' ? '' : (l.hostname ?? '')}`;
      if (onPort !== undefined && onPort !== group)
        conflicted = cond(
          'Conflicted',
          true,
          'ProtocolConflict',
          `port ${l.port} is already used by a listener of another kind (${onPort === 'http' ? 'HTTP' : onPort === 'tls' ? 'HTTPS/TLS' : 'TCP'})`,
        );
      else if (taken.has(hostKey))
        conflicted = cond(
          'Conflicted',
          true,
          'HostnameConflict',
          `another listener on port ${l.port} already has ${l.hostname === undefined ? 'no hostname' : `hostname ${l.hostname}`}`,
        );
      else {
        portGroup.set(l.port, group);
        taken.add(hostKey);
      }
    }
    conditions.push(conflicted);
    // A ListenerSet's listener that conflicts is not accepted (the Gateway's own stays Accepted).
    const rejected = origin !== undefined && conflicted.status;
    if (rejected) conditions[0] = cond('Accepted', false, conflicted.reason, conflicted.message);

    // ResolvedRefs: certificates of TLS termination, then route kinds.
    const certificates: string[] = [];
    let refs = cond('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved');
    const problems: { reason: string; message: string }[] = [...(ca?.problems ?? [])];
    if (terminates && accepted.status) {
      const certRefs = l.tls?.certificateRefs ?? [];
      if (certRefs.length === 0)
        problems.push({
          reason: 'InvalidCertificateRef',
          message: `a listener that terminates TLS (${l.protocol}${l.protocol === 'TLS' ? ', tls.mode Terminate' : ''}) needs tls.certificateRefs`,
        });
      for (const ref of certRefs) {
        const problem = refProblem(
          state,
          origin
            ? { kind: 'ListenerSet', namespace: origin.namespace }
            : { kind: 'Gateway', namespace },
          ref,
          `certificateRef ${ref.namespace}/${ref.name}`,
          { kind: 'Secret', kindReason: 'InvalidCertificateRef', reason: 'InvalidCertificateRef' },
          (key) => secretProblem(secrets, key),
        );
        if (problem) problems.push(problem);
        else certificates.push(sdsSecretName(ref.namespace, ref.name));
      }
    }
    // RefNotPermitted first: it is the one the user fixes with a ReferenceGrant.
    const first = problems.find((p) => p.reason === 'RefNotPermitted') ?? problems[0];
    if (first)
      refs = cond('ResolvedRefs', false, first.reason, problems.map((p) => p.message).join('; '));
    if (refs.status && invalidKinds.length > 0)
      refs = cond(
        'ResolvedRefs',
        false,
        'InvalidRouteKinds',
        `route kinds ${invalidKinds.map((k) => `${k.group}/${k.kind}`).join(', ')} are not supported on ${l.protocol} listeners (supported: ${protocolKinds.join(', ') || 'none'})`,
      );
    conditions.push(refs);

    const usable = accepted.status && !conflicted.status;
    const programmed = usable && (!terminates || certificates.length > 0);
    conditions.push(
      programmed
        ? cond('Programmed', true, 'Programmed', 'listener programmed')
        : cond(
            'Programmed',
            false,
            rejected ? conflicted.reason : 'Invalid',
            !accepted.status
              ? 'the listener is not accepted'
              : conflicted.status
                ? 'the listener conflicts with another'
                : 'no usable certificate',
          ),
    );
    return {
      listener: l,
      ...(origin ? { origin } : {}),
      ...(group ? { group } : {}),
      supportedKinds,
      conditions,
      usable,
      programmed,
      certificates,
      passthrough,
      ...(frontend && ca && ca.pems.length > 0
        ? {
            clientValidation: {
              caPem: ca.pems.join('\n') + '\n',
              insecureFallback: frontend.mode === 'AllowInsecureFallback',
            },
          }
        : {}),
    };
  });

  const parameters = gatewayParametersProblem(gw);
  const addressProblem = gatewayAddressProblem(gw);
  const listenerSets = sets.map(({ ls, allowed }): ListenerSetDecision => {
    const key = `${ls.metadata.namespace}/${ls.metadata.name}`;
    const attached =
      allowed &&
      listeners.some((d) => d.programmed && `${d.origin?.namespace}/${d.origin?.name}` === key);
    return { listenerSet: ls, key, allowed, attached };
  });
  // The Gateway is accepted on its own listeners (those of its ListenerSets have their own status).
  const own = listeners.filter((d) => d.origin === undefined);
  const accepted: RouteCondition = parameters
    ? { type: 'Accepted', status: false, reason: 'InvalidParameters', message: parameters }
    : addressProblem
      ? { type: 'Accepted', status: false, reason: 'UnsupportedAddress', message: addressProblem }
      : own.some((l) => l.usable)
        ? {
            type: 'Accepted',
            status: true,
            // Accepted with the listeners that work; the reason says some do not (as the spec asks).
            reason: own.every((l) => l.usable) ? 'Accepted' : 'ListenersNotValid',
            message: own.every((l) => l.usable)
              ? 'gateway deployed by trellis'
              : `gateway deployed by trellis; listeners not valid: ${own
                  .filter((l) => !l.usable)
                  .map((l) => l.listener.name)
                  .join(', ')}`,
          }
        : {
            type: 'Accepted',
            status: false,
            reason: 'ListenersNotValid',
            message: 'no listener is valid (see status.listeners)',
          };
  const frontend = gw.spec.tls?.frontend;
  const insecureFrontendValidation = [
    frontend?.default,
    ...(frontend?.perPort ?? []).map((p) => p.tls),
  ].some((t) => t?.validation?.mode === 'AllowInsecureFallback');
  const backend = backendClientCertificate(state, secrets, gw);
  return {
    gateway: gw,
    key,
    accepted,
    listeners,
    listenerSets,
    insecureFrontendValidation,
    ...(backend ?? {}),
  };
}

/**
 * The Gateway's client certificate for backends (spec.tls.backend.clientCertificateRef): a TLS
 * Secret of its namespace, or of another one that grants it; else ResolvedRefs False with
 * InvalidClientCertificateRef or RefNotPermitted (the Gateway stays Accepted, and its backends
 * get no client certificate).
 */
function backendClientCertificate(
  state: EnvoyState,
  secrets: ReadonlyMap<string, TlsSecret>,
  gw: Gateway,
): Pick<GatewayDecision, 'resolvedRefs' | 'backendClientCertificate'> | undefined {
  const ref = gw.spec.tls?.backend?.clientCertificateRef;
  if (!ref) return undefined;
  const what = `spec.tls.backend.clientCertificateRef ${ref.namespace}/${ref.name}`;
  const problem = refProblem(
    state,
    { kind: 'Gateway', namespace: gw.metadata.namespace },
    ref,
    what,
    {
      kind: 'Secret',
      kindReason: 'InvalidClientCertificateRef',
      reason: 'InvalidClientCertificateRef',
    },
    (key) => secretProblem(secrets, key),
  );
  if (problem) return { resolvedRefs: { type: 'ResolvedRefs', status: false, ...problem } };
  const secret = secrets.get(`${ref.namespace}/${ref.name}`);
  return {
    resolvedRefs: {
      type: 'ResolvedRefs',
      status: true,
      reason: 'ResolvedRefs',
      message: `${what}: presented to backends that use TLS`,
    },
    backendClientCertificate: {
      certificateChain: secret!.certificateChain!,
      privateKey: secret!.privateKey!,
    },
  };
}

/**
 * Why a Gateway's reference to a core object of `o.kind` cannot be used, if it cannot: another
 * group or kind (`o.kindReason`), another namespace without a ReferenceGrant (`RefNotPermitted`),
 * or what `problemOf` says of the object (`o.reason`).
 */
function refProblem(
  state: EnvoyState,
  from: { kind: 'Gateway' | 'ListenerSet'; namespace: string },
  ref: SecretObjectReference,
  what: string,
  o: { kind: 'Secret' | 'ConfigMap'; kindReason: string; reason: string },
  problemOf: (key: string) => string | undefined,
): { reason: string; message: string } | undefined {
  if (ref.group !== '' || ref.kind !== o.kind)
    return {
      reason: o.kindReason,
      message: `${what}: kind ${ref.group ? `${ref.group}/` : ''}${ref.kind} is not supported (only ${o.kind})`,
    };
  const permitted = referenceAllowed(
    state.referenceGrants,
    { group: GATEWAY_GROUP, ...from },
    { group: '', kind: o.kind, namespace: ref.namespace, name: ref.name },
  );
  if (!permitted)
    return {
      reason: 'RefNotPermitted',
      message: `${what}: no ReferenceGrant in namespace ${ref.namespace} lets ${from.kind}s of ${from.namespace} refer to it`,
    };
  const problem = problemOf(`${ref.namespace}/${ref.name}`);
  return problem ? { reason: o.reason, message: `${what}: ${problem}` } : undefined;
}

/** Why the Secret `key` cannot serve as a certificate and key, if it cannot. */
function secretProblem(secrets: ReadonlyMap<string, TlsSecret>, key: string): string | undefined {
  const secret = secrets.get(key);
  return secret ? tlsSecretProblem(secret) : `Secret ${key} not found`;
}

/** The client certificate validation of the Gateway's HTTPS listeners on `port`, if any. */
function frontendValidation(gw: Gateway, port: number) {
  const f = gw.spec.tls?.frontend;
  if (!f) return undefined;
  return (f.perPort.find((p) => p.port === port)?.tls ?? f.default).validation;
}

/**
 * The CA certificates of `refs` (ConfigMaps with a PEM `ca.crt`) and why the others cannot be
 * used, with the listener reasons Gateway API names.
 */
function resolveCaRefs(
  state: EnvoyState,
  configMaps: ReadonlyMap<string, CaConfigMap>,
  namespace: string,
  refs: readonly SecretObjectReference[],
) {
  const pems: string[] = [];
  const problems: { reason: string; message: string }[] = [];
  for (const ref of refs) {
    const key = `${ref.namespace}/${ref.name}`;
    const problem = refProblem(
      state,
      { kind: 'Gateway', namespace },
      ref,
      `caCertificateRef ${key}`,
      {
        kind: 'ConfigMap',
        kindReason: 'InvalidCACertificateKind',
        reason: 'InvalidCACertificateRef',
      },
      (k) => caProblem(configMaps.get(k), k),
    );
    if (problem) problems.push(problem);
    else pems.push(configMaps.get(key)!.caCrt!.trim());
  }
  return { pems, problems };
}
