// Istio security.istio.io/v1 policies as the control plane holds them: checked at ingest
// (ingest/convert) with the API's defaults filled in. A policy whose rules or modes cannot be read
// is kept and fails closed (see `rulesProblem` and `modeProblem`): dropping it would silently
// weaken the mesh's security.
import type { Meta, StatusCondition } from './gateway-api.js';

/** Policy target reference (Gateway API style). */
export interface PolicyTargetReference {
  /** Default: the core group (empty). */
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly sectionName?: string;
}

/**
 * `from[].source` or `to[].operation` as written: field name -> values. Every value is a list of
 * strings; unknown field names are kept so that translators can refuse what they cannot enforce.
 */
export type AuthorizationFields = Readonly<Record<string, readonly string[]>>;

/** `rules[].when[]`. */
export interface AuthorizationCondition {
  readonly key: string;
  readonly values: readonly string[];
  readonly notValues: readonly string[];
}

export interface AuthorizationRule {
  /** An entry without `source` has an empty one. */
  readonly from: readonly { readonly source: AuthorizationFields }[];
  readonly to: readonly { readonly operation: AuthorizationFields }[];
  readonly when: readonly AuthorizationCondition[];
}

export interface WorkloadSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
}

export interface AuthorizationPolicy {
  readonly metadata: Meta;
  readonly spec: {
    readonly selector?: WorkloadSelector;
    /** `targetRefs` followed by the deprecated `targetRef`. */
    readonly targetRefs: readonly PolicyTargetReference[];
    /** ALLOW (default), DENY, AUDIT, CUSTOM, or a value we do not know. */
    readonly action: string;
    readonly provider?: { readonly name: string };
    readonly rules: readonly AuthorizationRule[];
    /**
     * Why `spec.rules` could not be read. The policy is then kept with rules that fail closed: an
     * ALLOW policy allows nothing, any other action matches every request it selects.
     */
    readonly rulesProblem?: string;
  };
  readonly status: { readonly conditions: readonly StatusCondition[] };
}

/** UNSET (inherit), DISABLE, PERMISSIVE or STRICT. */
export type MtlsModeName = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthentication {
  readonly metadata: Meta;
  readonly spec: {
    readonly selector?: WorkloadSelector;
    /** As written; empty means UNSET. */
    readonly mode: string;
    /** Port (as written, a string key) -> mode as written. */
    readonly portLevelMtls: Readonly<Record<string, string>>;
    /**
     * Why `spec.mtls` or `spec.portLevelMtls` could not be read. The policy is then STRICT on every
     * port (fails closed).
     */
    readonly modeProblem?: string;
  };
}

/** `spec.jwtRules[]` of a RequestAuthentication. */
export interface JwtRule {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwksUri?: string;
  /** Inline JWKS (JSON text). */
  readonly jwks?: string;
  readonly fromHeaders: readonly { readonly name: string; readonly prefix: string }[];
  readonly fromParams: readonly string[];
  readonly fromCookies: readonly string[];
  readonly outputPayloadToHeader?: string;
  readonly forwardOriginalToken: boolean;
  readonly outputClaimToHeaders: readonly { readonly header: string; readonly claim: string }[];
  /** JWKS fetch timeout as written (an Istio duration). */
  readonly timeout?: string;
}

/**
 * RequestAuthentication: JWT validation rules (read by the waypoint translator). Selected like an
 * AuthorizationPolicy: `targetRefs` or a workload selector.
 */
export interface RequestAuthentication {
  readonly metadata: Meta;
  readonly spec: {
    readonly selector?: WorkloadSelector;
    /** `targetRefs` followed by the deprecated `targetRef`. */
    readonly targetRefs: readonly PolicyTargetReference[];
    readonly jwtRules: readonly JwtRule[];
  };
  readonly status: { readonly conditions: readonly StatusCondition[] };
}
