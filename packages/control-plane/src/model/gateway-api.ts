// Gateway API v1 objects as the control plane holds them: checked at ingest (ingest/convert) and
// filled with the defaults the spec gives, so that translators read plain fields. Enumerations stay
// strings: a value the spec does not know is reported where it is used (a translation note or a
// status reason), not by dropping the object.
import type { LabelSelector, ObjectMeta } from './kube.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** Metadata of an admitted object: name and namespace are always set. */
export type Meta = ObjectMeta & { name: string; namespace: string };

/** metav1.Condition as found in an object's status (read leniently: bad entries are left out). */
export interface StatusCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime?: string;
}

export interface RouteGroupKind {
  /** Default `gateway.networking.k8s.io`. */
  readonly group: string;
  readonly kind: string;
}

/** `allowedRoutes.namespaces.from`: `Same` (default), `All`, `Selector`, or a value we do not know. */
export interface AllowedNamespaces {
  readonly from: string;
  /** Set when `from` is `Selector`; an absent selector selects nothing. */
  readonly selector?: LabelSelector;
}

/** A certificateRef with its defaults: core group, kind Secret, the Gateway's namespace. */
export interface SecretObjectReference {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

export interface GatewayTLSConfig {
  /** `Terminate` (default) or `Passthrough`. */
  readonly mode: string;
  readonly certificateRefs: readonly SecretObjectReference[];
}

export interface GatewayListener {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  readonly hostname?: string;
  /** HTTPS and TLS listeners. */
  readonly tls?: GatewayTLSConfig;
  readonly allowedRoutes: {
    readonly namespaces: AllowedNamespaces;
    /** Empty: the kinds the listener's protocol supports. */
    readonly kinds: readonly RouteGroupKind[];
  };
}

/** `spec.tls` of a Gateway. */
export interface GatewayTls {
  readonly frontend?: {
    /** For every HTTPS listener without a `perPort` entry for its port. */
    readonly default: FrontendTls;
    readonly perPort: readonly { readonly port: number; readonly tls: FrontendTls }[];
  };
  /** The client certificate the gateway presents to backends that ask (BackendTLSPolicy). */
  readonly backend?: { readonly clientCertificateRef?: SecretObjectReference };
}

export interface FrontendTls {
  readonly validation?: {
    /** Defaults: core group, the Gateway's namespace (kind is required). */
    readonly caCertificateRefs: readonly SecretObjectReference[];
    /** `AllowValidOnly` (default) or `AllowInsecureFallback`. */
    readonly mode: string;
  };
}

export interface GatewayAddress {
  /** Default `IPAddress`. */
  readonly type: string;
  readonly value: string;
}

export interface GatewayInfrastructure {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** A ConfigMap (core group) in the Gateway's namespace with deployment options. */
  readonly parametersRef?: { readonly group: string; readonly kind: string; readonly name: string };
}

export interface Gateway {
  readonly metadata: Meta;
  readonly spec: {
    readonly gatewayClassName: string;
    readonly listeners: readonly GatewayListener[];
    readonly addresses: readonly GatewayAddress[];
    /** `spec.infrastructure`: labels and annotations for the deployed objects, and their options. */
    readonly infrastructure?: GatewayInfrastructure;
    /** `spec.allowedListeners.namespaces`: where ListenerSets may attach from (default `None`). */
    readonly allowedListeners: AllowedNamespaces;
    /** `spec.tls`: client certificate validation (frontend) and the gateway's client certificate to backends. */
    readonly tls?: GatewayTls;
  };
  readonly status: {
    readonly addresses: readonly GatewayAddress[];
    readonly conditions: readonly StatusCondition[];
    readonly listeners: readonly { name: string; conditions: readonly StatusCondition[] }[];
  };
}

/** A parentRef with its defaults; `written` is the reference as the user wrote it (status echoes it). */
export interface ParentReference {
  /** Default `gateway.networking.k8s.io`; `core` is read as the core group (empty). */
  readonly group: string;
  /** Default `Gateway`. */
  readonly kind: string;
  /** Default: the route's namespace. */
  readonly namespace: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
  readonly written: WrittenParentReference;
}

export interface WrittenParentReference {
  readonly group?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export interface HeaderMatch {
  /** `Exact` (default) or `RegularExpression`. */
  readonly type: string;
  readonly name: string;
  readonly value: string;
}

export interface HTTPPathMatch {
  /** `PathPrefix` (default), `Exact` or `RegularExpression`. */
  readonly type: string;
  /** Default `/`. */
  readonly value: string;
}

export interface HTTPRouteMatch {
  readonly path: HTTPPathMatch;
  readonly headers: readonly HeaderMatch[];
  readonly queryParams: readonly HeaderMatch[];
  readonly method?: string;
}

export interface GRPCMethodMatch {
  /** `Exact` (default) or `RegularExpression`. */
  readonly type: string;
  readonly service?: string;
  readonly method?: string;
}

export interface GRPCRouteMatch {
  readonly method?: GRPCMethodMatch;
  readonly headers: readonly HeaderMatch[];
}

export interface HeaderNameValue {
  readonly name: string;
  readonly value: string;
}

export interface HeaderModifier {
  readonly set: readonly HeaderNameValue[];
  readonly add: readonly HeaderNameValue[];
  readonly remove: readonly string[];
}

/** A backend (or mirror) reference with its defaults: core group, kind Service, the route's namespace. */
export interface BackendObjectReference {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly port?: number;
}

export interface BackendRef extends BackendObjectReference {
  /** Default 1. */
  readonly weight: number;
  readonly filters: readonly RouteFilter[];
}

export interface PathModifier {
  /** `ReplaceFullPath` or `ReplacePrefixMatch`. */
  readonly type: string;
  readonly replaceFullPath?: string;
  readonly replacePrefixMatch?: string;
}

export interface RequestRedirect {
  readonly scheme?: string;
  readonly hostname?: string;
  readonly path?: PathModifier;
  readonly port?: number;
  /** Default 302. */
  readonly statusCode: number;
}

export interface URLRewrite {
  readonly hostname?: string;
  readonly path?: PathModifier;
}

export interface RequestMirror {
  readonly backendRef: BackendObjectReference;
  readonly percent?: number;
  /** `denominator` defaults to 100. */
  readonly fraction?: { readonly numerator: number; readonly denominator: number };
}

/** HTTPRoute filter `CORS` (experimental, HTTPRouteCORS). */
export interface HTTPCORSFilter {
  /** `*`, or `scheme://host[:port]` where host may start with `*.` (any number of labels). */
  readonly allowOrigins: readonly string[];
  readonly allowCredentials?: boolean;
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  /** Seconds; Gateway API's default is 5. */
  readonly maxAge?: number;
}

export interface RouteFilter {
  readonly type: string;
  readonly requestHeaderModifier?: HeaderModifier;
  readonly responseHeaderModifier?: HeaderModifier;
  readonly requestRedirect?: RequestRedirect;
  readonly urlRewrite?: URLRewrite;
  readonly requestMirror?: RequestMirror;
  readonly cors?: HTTPCORSFilter;
  readonly extensionRef?: { readonly group: string; readonly kind: string; readonly name: string };
}

export interface HTTPRouteRule {
  readonly name?: string;
  /** Default: one match, path prefix `/`. */
  readonly matches: readonly HTTPRouteMatch[];
  readonly filters: readonly RouteFilter[];
  readonly backendRefs: readonly BackendRef[];
  /** Gateway API durations as written (parsed where used). */
  readonly timeouts?: { readonly request?: string; readonly backendRequest?: string };
  /** Gateway API experimental (GEP-1731); `attempts` defaults to 2. */
  readonly retry?: {
    readonly codes: readonly number[];
    readonly attempts: number;
    readonly backoff?: string;
  };
}

export interface GRPCRouteRule {
  readonly name?: string;
  /** Default: one match that matches everything. */
  readonly matches: readonly GRPCRouteMatch[];
  readonly filters: readonly RouteFilter[];
  readonly backendRefs: readonly BackendRef[];
}

/** One `status.parents[]` entry as found on the object (ours or another controller's). */
export interface RouteParentStatus {
  readonly parentRef: WrittenParentReference;
  readonly controllerName: string;
  readonly conditions: readonly StatusCondition[];
}

interface RouteObject<Rule> {
  readonly metadata: Meta;
  readonly spec: {
    readonly parentRefs: readonly ParentReference[];
    readonly hostnames: readonly string[];
    readonly rules: readonly Rule[];
  };
  readonly status: { readonly parents: readonly RouteParentStatus[] };
}

export type HTTPRoute = RouteObject<HTTPRouteRule>;
export type GRPCRoute = RouteObject<GRPCRouteRule>;

/** GatewayClass: which controller handles the Gateways of the class. */
export interface GatewayClass {
  readonly metadata: Omit<Meta, 'namespace'> & { namespace?: string };
  readonly spec: { readonly controllerName: string };
  readonly status: {
    readonly conditions: readonly StatusCondition[];
    readonly supportedFeatures?: readonly { readonly name: string }[];
  };
}

/** A TLSRoute or TCPRoute rule: backends only (Gateway API v1, experimental channel). */
export interface L4RouteRule {
  readonly name?: string;
  readonly backendRefs: readonly BackendRef[];
}

/** TLSRoute: matched by SNI (`hostnames`) on a TLS passthrough listener. */
export type TLSRoute = RouteObject<L4RouteRule>;
/** TCPRoute: everything arriving on a TCP listener (no hostnames). */
export type TCPRoute = RouteObject<L4RouteRule>;

/** ReferenceGrant (v1): lets objects of `from` refer to objects of `to` in the grant's namespace. */
export interface ReferenceGrant {
  readonly metadata: Meta;
  readonly spec: {
    readonly from: readonly { group: string; kind: string; namespace: string }[];
    readonly to: readonly { group: string; kind: string; name?: string }[];
  };
}

/** `ListenerSet` (gateway.networking.k8s.io/v1): listeners added to a parent Gateway. */
export interface ListenerSet {
  readonly metadata: Meta;
  readonly spec: {
    /** The Gateway, with its defaults (group gateway.networking.k8s.io, kind Gateway, the set's namespace). */
    readonly parentRef: {
      readonly group: string;
      readonly kind: string;
      readonly namespace: string;
      readonly name: string;
    };
    /** Certificate references default to the ListenerSet's namespace. */
    readonly listeners: readonly GatewayListener[];
  };
  readonly status: {
    readonly conditions: readonly StatusCondition[];
    readonly listeners: readonly { name: string; conditions: readonly StatusCondition[] }[];
  };
}
