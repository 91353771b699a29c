// A whole mesh -> the WDS resources ztunnel subscribes to, keyed by resource name.
import type { Address } from '@trellis/api/gen/istio/workload/workload_pb.js';
import type { Authorization } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { deriveMeshState, type MeshState } from '../collections/mesh-state.js';
import type { ClusterSnapshot } from '../model/kube.js';
import type { MeshOptions } from '../model/options.js';
import type { PeerAuthenticationInfo } from '../model/policy-info.js';
import { compareStrings } from '../collections/meta.js';
import { authorizationFromPolicy } from './authorization.js';
import {
  authorizationFromPeerAuthentication,
  staticStrictAuthorization,
} from './peer-authentication.js';
import { serviceAddress } from './service.js';
import { workloadAddress } from './workload.js';

/** Something a user should know about their configuration (for status conditions and logs). */
export interface TranslationNote {
  kind: 'AuthorizationPolicy' | 'PeerAuthentication' | 'Service' | 'Pod';
  /** `<namespace>/<name>` of the object. */
  object: string;
  message: string;
}

export interface WdsResources {
  /** `istio.workload.Address` by resource name (workload uid or `<ns>/<hostname>`), in name order. */
  addresses: Map<string, Address>;
  /** `istio.security.Authorization` by `<ns>/<name>`, in name order. */
  authorizations: Map<string, Authorization>;
  notes: TranslationNote[];
}

export function translateSnapshot(
  snapshot: ClusterSnapshot,
  options: MeshOptions = {},
): WdsResources {
  return translateState(deriveMeshState(snapshot, options));
}

// Translations are cached per derived object: the incremental derivation keeps the object of every
// unchanged workload, service and policy, so only changed ones are translated again, and the
// packed-resource cache (server/wds-resources) then skips them by identity. The infos are never
// mutated once derived, so a cached message is what translating them again would give.
function cached<K extends object, V>(translate: (info: K) => V): (info: K) => V {
  const results = new WeakMap<K, V>();
  return (info) => {
    let result = results.get(info);
    if (result === undefined) {
      result = translate(info);
      results.set(info, result);
    }
    return result;
  };
}
const cachedServiceAddress = cached(serviceAddress);
const cachedWorkloadAddress = cached(workloadAddress);
const cachedPolicy = cached(authorizationFromPolicy);
const cachedPeerAuthentication = cached((pa: PeerAuthenticationInfo) => ({
  converted: authorizationFromPeerAuthentication(pa),
}));

export function translateState(state: MeshState): WdsResources {
  const notes: TranslationNote[] = [];
  const addresses: [string, Address][] = [];
  for (const s of state.services.values()) {
    addresses.push([s.key, cachedServiceAddress(s)]);
    if (s.waypointProblem)
      notes.push({
        kind: 'Service',
        object: `${s.namespace}/${s.name}`,
        message: s.waypointProblem,
      });
  }
  for (const w of state.workloads.values()) {
    addresses.push([w.uid, cachedWorkloadAddress(w)]);
    if (w.waypointProblem)
      notes.push({ kind: 'Pod', object: `${w.namespace}/${w.name}`, message: w.waypointProblem });
  }

  const authorizations: [string, Authorization][] = [];
  for (const p of state.authorizationPolicies) {
    const { authorization, warnings } = cachedPolicy(p);
    if (authorization) authorizations.push([p.key, authorization]);
    for (const message of warnings)
      notes.push({ kind: 'AuthorizationPolicy', object: p.key, message });
  }
  for (const pa of state.peerAuthentications) {
    const { converted } = cachedPeerAuthentication(pa);
    if (converted) authorizations.push([`${converted.namespace}/${converted.name}`, converted]);
    if (pa.problem) notes.push({ kind: 'PeerAuthentication', object: pa.key, message: pa.problem });
  }
  // Istio sends the static STRICT policy as soon as any PeerAuthentication exists.
  if (state.peerAuthentications.length > 0) {
    const strict = staticStrictAuthorization(state.options.rootNamespace);
    authorizations.push([`${strict.namespace}/${strict.name}`, strict]);
  }
  const byName = <T>(entries: [string, T][]) =>
    new Map(entries.sort((a, b) => compareStrings(a[0], b[0])));
  return { addresses: byName(addresses), authorizations: byName(authorizations), notes };
}
