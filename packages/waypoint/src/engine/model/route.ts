// The routing model the converters build from RouteConfiguration: virtual hosts with compiled
// matchers and actions. Plain objects and closures; nothing here refers to protobuf.
import type { HeaderPredicate, QueryPredicate, StringPredicate } from '../convert/matchers.js';
import type { MetadataPredicate } from '../convert/metadata.js';
import type { FaultConfig } from './fault.js';
import type { CorsPolicyModel } from './cors.js';

export type AppendAction = 'append' | 'add-if-absent' | 'overwrite-or-add' | 'overwrite-if-exists';

/** A header value: a literal, or a template with Envoy command operators (%DOWNSTREAM_...%). */
export type HeaderValueTemplate =
  | { readonly literal: string }
  | { readonly parts: readonly (string | { readonly operator: string; readonly arg?: string })[] };

export interface HeaderToAdd {
  readonly name: string;
  readonly value: HeaderValueTemplate;
  readonly action: AppendAction;
  readonly keepEmpty: boolean;
}

export interface HeaderMutation {
  readonly remove: readonly string[];
  readonly add: readonly HeaderToAdd[];
}

export const NO_MUTATION: HeaderMutation = { remove: [], add: [] };

export interface RouteMatcher {
  /** Against the path without its query string. */
  readonly path: StringPredicate;
  readonly headers: readonly HeaderPredicate[];
  readonly query: readonly QueryPredicate[];
  readonly metadata: readonly MetadataPredicate[];
  /** Only requests with content-type application/grpc*. */
  readonly grpc: boolean;
  /** Fraction of requests (0..1) that match, when set. */
  readonly fraction?: number;
  /** For config dumps and logs: e.g. "prefix /api". */
  readonly describe: string;
}

export interface RetryPolicy {
  /** Conditions from retry_on, plus 'status' when retriable_status_codes applies. */
  readonly on: ReadonlySet<string>;
  readonly numRetries: number;
  readonly perTryTimeoutMs: number;
  readonly retriableStatusCodes: ReadonlySet<number>;
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  /** Prefer hosts not tried before (envoy.retry_host_predicates.previous_hosts). */
  readonly otherHosts: boolean;
  readonly hostSelectionAttempts: number;
}

export type HashPolicy =
  | { readonly kind: 'header'; readonly name: string; readonly terminal: boolean }
  | { readonly kind: 'cookie'; readonly name: string; readonly terminal: boolean }
  | { readonly kind: 'source-ip'; readonly terminal: boolean }
  | { readonly kind: 'query'; readonly name: string; readonly terminal: boolean };

export interface WeightedTarget {
  readonly cluster: string;
  readonly weight: number;
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  readonly hostRewrite?: string;
}

export interface MirrorPolicy {
  readonly cluster: string;
  /** 0..1 */
  readonly fraction: number;
  /** Append "-shadow" to the mirrored request's host (Envoy's default). */
  readonly shadowSuffix: boolean;
}

export interface ForwardAction {
  readonly kind: 'forward';
  readonly targets: readonly WeightedTarget[];
  readonly totalWeight: number;
  /** Status when the chosen cluster does not exist: 503 (Envoy's default), 404 or 500. */
  readonly clusterNotFoundStatus: number;
  /** 0 = no timeout. Envoy's default when unset is 15 s. */
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly retry?: RetryPolicy;
  readonly prefixRewrite?: string;
  readonly regexRewrite?: { readonly pattern: RegExp; readonly substitution: string };
  readonly hostRewrite?: string;
  /** Set the Host to the chosen endpoint's address. */
  readonly autoHostRewrite: boolean;
  readonly mirrors: readonly MirrorPolicy[];
  readonly hashPolicies: readonly HashPolicy[];
  /** Upgrade types (lowercase) this route enables (true) or disables (false), over the listener's. */
  readonly upgrades: ReadonlyMap<string, boolean>;
  /** Honour the grpc-timeout header up to this (ms); undefined = ignore it. */
  readonly maxGrpcTimeoutMs?: number;
}

export interface RedirectAction {
  readonly kind: 'redirect';
  readonly scheme?: string;
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  readonly prefixRewrite?: string;
  readonly regexRewrite?: { readonly pattern: RegExp; readonly substitution: string };
  readonly stripQuery: boolean;
  readonly status: number;
}

export interface DirectResponseAction {
  readonly kind: 'direct';
  readonly status: number;
  readonly body: string;
}

export type RouteActionModel = ForwardAction | RedirectAction | DirectResponseAction;

/** Per-route overrides of HTTP filters (typed_per_filter_config). */
export interface PerFilterConfig {
  /** envoy.filters.http.fault: this route's fault settings replace the filter's. */
  readonly fault?: FaultConfig;
  /** envoy.filters.http.cors: this route's (or virtual host's) CORS policy. */
  readonly cors?: CorsPolicyModel;
  /** Filters turned off for this route (FilterConfig.disabled or RBACPerRoute without rbac). */
  readonly disabled: ReadonlySet<string>;
}

export interface Route {
  readonly name: string;
  readonly match: RouteMatcher;
  readonly action: RouteActionModel;
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  readonly perFilter: PerFilterConfig;
  /** The prefix/path the matcher used, for prefix_rewrite. */
  readonly matchedPrefix?: string;
}

export interface VirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly Route[];
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  readonly retry?: RetryPolicy;
  readonly mirrors: readonly MirrorPolicy[];
  readonly perFilter: PerFilterConfig;
}

export interface RouteTable {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHost[];
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  readonly mirrors: readonly MirrorPolicy[];
  readonly ignorePortInHostMatching: boolean;
  readonly mostSpecificHeaderMutationsWins: boolean;
  /** Domain lookup built once: exact names, suffix wildcards (longest first), prefix wildcards, "*". */
  readonly hosts: HostIndex;
}

export interface HostIndex {
  readonly exact: ReadonlyMap<string, VirtualHost>;
  /** "*.example.com" -> [".example.com", vh], longest suffix first. */
  readonly suffixes: readonly (readonly [string, VirtualHost])[];
  /** "example.*" -> ["example.", vh], longest prefix first. */
  readonly prefixes: readonly (readonly [string, VirtualHost])[];
  readonly any?: VirtualHost;
}
