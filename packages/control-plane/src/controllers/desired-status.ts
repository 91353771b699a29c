// Every status this controller wants written for one snapshot: the GatewayClasses of our ingress
// controller, waypoint and ingress Gateways, the ListenerSets of ingress Gateways,
// HTTPRoutes, GRPCRoutes, TLSRoutes and TCPRoutes with a parentRef we own, BackendTLSPolicies
// reached from ingress Gateways, AuthorizationPolicies
// and RequestAuthentications. Each write carries a fingerprint
// of the desired status and of the object's current one, so unchanged statuses are not rewritten.
import type { ServedSnapshot } from '../server/served-snapshot.js';
import { statusFingerprint } from './conditions.js';
import { gatewayStatus } from './gateway-status.js';
import { backendTlsPolicyStatus, gatewaysByBackend } from './backend-tls-policy-status.js';
import { backendTlsPolicies } from '../translate/envoy/backend-tls.js';
import { policyStatus } from './policy-status.js';
import { routeAttachments, type RouteKind } from '../translate/envoy/route-attachment.js';
import { gatewayDecision, isIngressGateway } from '../translate/envoy/gateway-listeners.js';
import { gatewayDeploymentName, ingressGatewayStatus } from './ingress-gateway-status.js';
import { listenerSetStatus } from './listener-set-status.js';
import { requestAuthenticationStatus } from './request-authn-status.js';
import { gatewayClassStatus } from './gateway-class-status.js';
import { GATEWAY_CONTROLLER_NAME } from './route-status.js';
import { routeStatus } from './route-status.js';
import { isWaypointClass, statusContext } from './status-context.js';

export interface CustomResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

const resource =
  (group: string) =>
  (plural: string, kind: string): CustomResource => ({ group, version: 'v1', plural, kind });
const gatewayApi = resource('gateway.networking.k8s.io');
const istioSecurity = resource('security.istio.io');

/** Cluster-scoped (written with an empty namespace). */
export const GATEWAY_CLASSES = gatewayApi('gatewayclasses', 'GatewayClass');
export const GATEWAYS = gatewayApi('gateways', 'Gateway');
export const LISTENER_SETS = gatewayApi('listenersets', 'ListenerSet');
export const HTTP_ROUTES = gatewayApi('httproutes', 'HTTPRoute');
export const GRPC_ROUTES = gatewayApi('grpcroutes', 'GRPCRoute');
export const TLS_ROUTES = gatewayApi('tlsroutes', 'TLSRoute');
export const TCP_ROUTES = gatewayApi('tcproutes', 'TCPRoute');
const ROUTE_RESOURCES: Record<RouteKind, CustomResource> = {
  HTTPRoute: HTTP_ROUTES,
  GRPCRoute: GRPC_ROUTES,
  TLSRoute: TLS_ROUTES,
  TCPRoute: TCP_ROUTES,
};
export const BACKEND_TLS_POLICIES = gatewayApi('backendtlspolicies', 'BackendTLSPolicy');
export const AUTHORIZATION_POLICIES = istioSecurity('authorizationpolicies', 'AuthorizationPolicy');

export const REQUEST_AUTHENTICATIONS = istioSecurity(
  'requestauthentications',
  'RequestAuthentication',
);

export interface StatusWrite {
  readonly resource: CustomResource;
  readonly namespace: string;
  readonly name: string;
  /** The fields of `status` to set (a JSON merge patch of `status`). */
  readonly status: Record<string, unknown>;
  readonly fingerprint: string;
  /** Fingerprint of the same fields in the object as last seen. */
  readonly currentFingerprint: string;
  /** resourceVersion of the object as last seen. */
  readonly resourceVersion: string | undefined;
}

type Obj = {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  status: object;
};

/** `deployFailures`: Gateway key -> why the objects that run it could not be applied. */
export function desiredStatuses(
  snapshot: ServedSnapshot,
  now: Date,
  deployFailures: ReadonlyMap<string, string> = new Map(),
): StatusWrite[] {
  const { cluster, state, notes } = snapshot;
  const ctx = statusContext(cluster, state, now);
  const writes: StatusWrite[] = [];
  const push = (resource: CustomResource, o: Obj, status: Record<string, unknown>) => {
    const current = o.status as Record<string, unknown>;
    writes.push({
      resource,
      namespace: o.metadata.namespace ?? '',
      name: o.metadata.name,
      status,
      fingerprint: statusFingerprint(status),
      currentFingerprint: statusFingerprint(
        Object.fromEntries(Object.keys(status).map((k) => [k, current[k]])),
      ),
      resourceVersion: o.metadata.resourceVersion,
    });
  };

  // Every class naming our ingress controller (not only the ones we create): Accepted for its
  // generation, and the features we support.
  for (const gc of cluster.gatewayClasses)
    if (gc.spec.controllerName === GATEWAY_CONTROLLER_NAME)
      push(GATEWAY_CLASSES, gc, { ...gatewayClassStatus(gc, ctx.now) });

  // The decisions the Envoy translators serve: status only renders them.
  const attachments = routeAttachments(snapshot.envoy);
  for (const result of attachments.routes) {
    const status = routeStatus(result, ctx.now);
    if (status) push(ROUTE_RESOURCES[result.route.kind], result.object, status);
  }
  for (const gw of cluster.gateways) {
    if (isIngressGateway(snapshot.envoy, gw)) {
      const svc = ctx.services.get(`${gw.metadata.namespace}/${gatewayDeploymentName(gw)}`);
      const decision = gatewayDecision(snapshot.envoy, gw);
      const failure = deployFailures.get(`${gw.metadata.namespace}/${gw.metadata.name}`);
      push(GATEWAYS, gw, {
        ...ingressGatewayStatus(decision, svc, attachments, ctx.now, failure),
      });
      for (const set of decision.listenerSets)
        push(LISTENER_SETS, set.listenerSet, {
          ...listenerSetStatus(set, decision, attachments, ctx.now),
        });
      continue;
    }
    if (!isWaypointClass(gw, ctx)) continue;
    const svc = ctx.services.get(`${gw.metadata.namespace}/${gw.metadata.name}`);
    const failure = deployFailures.get(`${gw.metadata.namespace}/${gw.metadata.name}`);
    push(GATEWAYS, gw, {
      ...gatewayStatus(gw, svc, attachments, state.options.domainSuffix, ctx.now, failure),
    });
  }
  const gatewaysOf = gatewaysByBackend(attachments);
  for (const d of backendTlsPolicies(snapshot.envoy).decisions) {
    const status = backendTlsPolicyStatus(d, gatewaysOf, ctx.now);
    if (status) push(BACKEND_TLS_POLICIES, d.policy, status);
  }
  const infos = new Map(state.authorizationPolicies.map((p) => [p.key, p]));
  for (const policy of cluster.authorizationPolicies) {
    const info = infos.get(`${policy.metadata.namespace}/${policy.metadata.name}`);
    if (info)
      push(AUTHORIZATION_POLICIES, policy, policyStatus(policy, info, notes, state, ctx.now));
  }
  for (const ra of cluster.requestAuthentications)
    push(REQUEST_AUTHENTICATIONS, ra, requestAuthenticationStatus(ra, state, ctx.now));
  return writes;
}
