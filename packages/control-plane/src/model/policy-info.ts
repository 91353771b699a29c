// Policies as the collections see them: parsed, validated and bound to a scope.
import type { AuthorizationRule, MtlsModeName, PolicyTargetReference } from './istio-security.js';

export type PolicyScope = 'GLOBAL' | 'NAMESPACE' | 'WORKLOAD_SELECTOR';

export interface AuthorizationPolicyInfo {
  name: string;
  namespace: string;
  /** `<namespace>/<name>` */
  key: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  /** GLOBAL in the root namespace without selector, NAMESPACE without selector, else WORKLOAD_SELECTOR. */
  scope: PolicyScope;
  selector?: Record<string, string>;
  targetRefs: readonly PolicyTargetReference[];
  /**
   * `ztunnel`: sent as an L4 Authorization; `waypoint`: has targetRefs, enforced by a waypoint;
   * `none`: neither can enforce it (see `problem`).
   */
  enforcedBy: 'ztunnel' | 'waypoint' | 'none';
  problem?: string;
  dryRun: boolean;
  rules: readonly AuthorizationRule[];
}

/** Where a PeerAuthentication applies. */
export type PeerAuthenticationLevel = 'mesh' | 'namespace' | 'workload';

export interface PeerAuthenticationInfo {
  name: string;
  namespace: string;
  key: string;
  level: PeerAuthenticationLevel;
  selector?: Record<string, string>;
  mode: MtlsModeName;
  /** Port-level modes, by ascending port. */
  portModes: { port: number; mode: MtlsModeName }[];
  createdMs: number;
  /**
   * For a workload-level policy: whether the namespace/mesh policies around it make the workload
   * STRICT when its own mode is UNSET.
   */
  inheritsStrict: boolean;
  problem?: string;
}
