// PeerAuthentication -> DENY Authorizations (see collections/peer-authentications.ts for which
// workloads list which policy).
import { create } from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import {
  Action,
  AuthorizationSchema,
  ClauseSchema,
  MatchSchema,
  RuleSchema,
  Scope,
  StringMatchSchema,
  type Authorization,
  type Clause,
  type Rule,
} from '@trellis/api/gen/istio/security/authorization_pb.js';
import {
  STATIC_STRICT_POLICY_NAME,
  convertedPeerAuthenticationName,
  needsConvertedPolicy,
  portPlan,
} from '../collections/peer-authentications.js';
import type { PeerAuthenticationInfo } from '../model/policy-info.js';

/** Matches a connection without a peer identity (plaintext). */
function noPeerIdentity(destinationPorts: number[] = []): Clause {
  return create(ClauseSchema, {
    matches: [
      create(MatchSchema, {
        notPrincipals: [
          create(StringMatchSchema, {
            matchType: { case: 'presence', value: create(EmptySchema) },
          }),
        ],
        destinationPorts,
      }),
    ],
  });
}

/** `<root>/istio_converted_static_strict`: deny plaintext to every workload that lists it. */
export function staticStrictAuthorization(rootNamespace: string): Authorization {
  return create(AuthorizationSchema, {
    name: STATIC_STRICT_POLICY_NAME,
    namespace: rootNamespace,
    scope: Scope.WORKLOAD_SELECTOR,
    action: Action.DENY,
    rules: [create(RuleSchema, { clauses: [noPeerIdentity()] })],
  });
}

/**
 * A workload-level policy whose ports differ from its effective mode becomes
 * `<ns>/converted_peer_authentication_<name>`:
 * - effectively STRICT with plaintext ports: deny when there is no identity AND the port is none of them;
 * - otherwise, for each STRICT port: deny when there is no identity on that port.
 * Every other PeerAuthentication is expressed through the static STRICT policy.
 */
export function authorizationFromPeerAuthentication(
  pa: PeerAuthenticationInfo,
): Authorization | undefined {
  if (!needsConvertedPolicy(pa)) return undefined;
  const plan = portPlan(pa);
  const rules: Rule[] = [];
  if (plan.strict) {
    const exemptions = plan.plaintextPorts.map((p) =>
      create(ClauseSchema, { matches: [create(MatchSchema, { notDestinationPorts: [p] })] }),
    );
    // Istio puts the policy's own STRICT first and an inherited (merged) STRICT last.
    const clauses =
      pa.mode === 'STRICT' ? [noPeerIdentity(), ...exemptions] : [...exemptions, noPeerIdentity()];
    rules.push(create(RuleSchema, { clauses }));
  } else {
    for (const port of plan.strictPorts)
      rules.push(create(RuleSchema, { clauses: [noPeerIdentity([port])] }));
  }
  return create(AuthorizationSchema, {
    name: convertedPeerAuthenticationName(pa.name),
    namespace: pa.namespace,
    scope: Scope.WORKLOAD_SELECTOR,
    action: Action.DENY,
    rules,
  });
}
