// A whole mesh -> the WDS resources ztunnel subscribes to, keyed by resource name.
import type { Address } from '@trellis/api/gen/istio/workload/workload_pb.js';
import type { Authorization } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { deriveMeshState, type MeshState } from '../collections/mesh-state.js';
import type { ClusterSnapshot } from '../model/kube.js';
import type { MeshOptions } from '../model/options.js';
import type { PeerAuthenticationInfo } from '../model/policy-info.js';
import type { WorkloadInfo } from '../model/workload-info.js';
import { forEachChange, withChanges } from '../collections/map-changes.js';
import { compareStrings } from '../collections/meta.js';
import { sameValue } from '../collections/same-value.js';
import { SortedMap } from '../collections/sorted-map.js';
import { authorizationFromPolicy } from './authorization.js';
import {
  authorizationFromPeerAuthentication,
  staticStrictAuthorization,
} from './peer-authentication.js';
import { serviceAddress } from './service.js';
import { workloadAddress } from './workload.js';

/** Something a user should know about their configuration (for status conditions and logs). */
export interface TranslationNote {
  kind: 'AuthorizationPolicy' | 'PeerAuthentication' | 'Service' | 'Pod' | 'DestinationRule';
  /** `<namespace>/<name>` of the object. */
  object: string;
  message: string;
}

export interface WdsResources {
  /** `istio.workload.Address` by resource name (workload uid or `<ns>/<hostname>`), in name order. */
  addresses: ReadonlyMap<string, Address>;
  /** `istio.security.Authorization` by `<ns>/<name>`, in name order. */
  authorizations: ReadonlyMap<string, Authorization>;
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

/** A workload whose every IP was refused exists only to carry its note: ztunnel gets no Address. */
const servable = (w: WorkloadInfo) => w.addresses.length > 0;

export function translateState(state: MeshState): WdsResources {
  const addresses: [string, Address][] = [];
  for (const s of state.services.values()) addresses.push([s.key, cachedServiceAddress(s)]);
  for (const w of state.workloads.values())
    if (servable(w)) addresses.push([w.uid, cachedWorkloadAddress(w)]);

  const authorizations: [string, Authorization][] = [];
  for (const p of state.authorizationPolicies) {
    const { authorization } = cachedPolicy(p);
    if (authorization) authorizations.push([p.key, authorization]);
  }
  for (const pa of state.peerAuthentications) {
    const { converted } = cachedPeerAuthentication(pa);
    if (converted) authorizations.push([`${converted.namespace}/${converted.name}`, converted]);
  }
  // Istio sends the static STRICT policy as soon as any PeerAuthentication exists.
  if (state.peerAuthentications.length > 0) {
    const strict = staticStrictAuthorization(state.options.rootNamespace);
    authorizations.push([`${strict.namespace}/${strict.name}`, strict]);
  }
  // SortedMaps from the start, so the incremental translator and packing never copy them whole.
  const byName = <T>(entries: [string, T][]) =>
    SortedMap.fromSorted(entries.sort((a, b) => compareStrings(a[0], b[0])));
  return {
    addresses: byName(addresses),
    authorizations: byName(authorizations),
    notes: notesOf(state),
  };
}

/** Services, then workloads, then policies: what could not be bound or enforced. */
function notesOf(state: MeshState): TranslationNote[] {
  const notes: TranslationNote[] = [];
  for (const s of state.services.values())
    if (s.waypointProblem)
      notes.push({
        kind: 'Service',
        object: `${s.namespace}/${s.name}`,
        message: s.waypointProblem,
      });
  for (const w of state.workloads.values()) {
    if (w.addressProblem)
      notes.push({ kind: 'Pod', object: `${w.namespace}/${w.name}`, message: w.addressProblem });
    if (w.waypointProblem)
      notes.push({ kind: 'Pod', object: `${w.namespace}/${w.name}`, message: w.waypointProblem });
  }
  for (const p of state.authorizationPolicies)
    for (const message of cachedPolicy(p).warnings)
      notes.push({ kind: 'AuthorizationPolicy', object: p.key, message });
  for (const pa of state.peerAuthentications)
    if (pa.problem) notes.push({ kind: 'PeerAuthentication', object: pa.key, message: pa.problem });
  return notes;
}

export interface StateTranslator {
  /** Equal to `translateState(state)`; unchanged maps and notes are the previous call's objects. */
  translate(state: MeshState): WdsResources;
}

/**
 * Translates each MeshState from the previous one's result: with the same policies and options,
 * only the services and workloads whose info object changed are translated and put into a copy of
 * the previous Address map (the policies' Authorization map is kept). Anything else translates in
 * full. Meant for the incremental derivation, which keeps unchanged info objects.
 */
export function createStateTranslator(): StateTranslator {
  let previous: { state: MeshState; result: WdsResources } | undefined;
  return {
    translate(state) {
      const p = previous;
      const result =
        p &&
        p.state.authorizationPolicies === state.authorizationPolicies &&
        p.state.peerAuthentications === state.peerAuthentications &&
        sameValue(p.state.options, state.options)
          ? translateChanges(p.state, p.result, state)
          : translateState(state);
      previous = { state, result };
      return result;
    },
  };
}

function translateChanges(before: MeshState, result: WdsResources, state: MeshState): WdsResources {
  const changes = new Map<string, Address | undefined>();
  let notesChanged = false;
  const noted = (info: { waypointProblem?: string; addressProblem?: string } | undefined) =>
    void (notesChanged ||=
      info?.waypointProblem !== undefined || info?.addressProblem !== undefined);
  forEachChange(before.services, state.services, (key, s) => {
    noted(before.services.get(key));
    noted(s);
    changes.set(key, s && cachedServiceAddress(s));
  });
  forEachChange(before.workloads, state.workloads, (uid, w) => {
    noted(before.workloads.get(uid));
    noted(w);
    changes.set(uid, w && servable(w) ? cachedWorkloadAddress(w) : undefined);
  });
  return {
    addresses: withChanges(result.addresses, changes),
    authorizations: result.authorizations,
    notes: notesChanged ? notesOf(state) : result.notes,
  };
}
