// The WDS resource handlers: decode each Address / Authorization with the state converters (a
// refusal becomes the NACK's reason) and apply each accepted response to the store in one change.
import { AuthorizationSchema } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { AddressSchema } from '@trellis/api/gen/istio/workload/workload_pb.js';
import { protoDecoder, type ResourceHandler } from '@trellis/xds';
import { convertAddress, type ConvertedAddress } from '../state/convert/address.js';
import { convertAuthorization } from '../state/convert/authorization.js';
import { policyKey, serviceKey, type Authorization } from '../state/model.js';
import type { StateStore } from '../state/store.js';

/** Address resources: workloads (named by uid) and services (named "<namespace>/<hostname>"). */
export function addressHandler(
  store: StateStore,
  onSynced: () => void,
): ResourceHandler<ConvertedAddress> {
  // What each resource name currently stands for, so a removal knows which index to drop.
  const held = new Map<string, { kind: 'workload' | 'service'; key: string }>();
  return {
    decode: protoDecoder(AddressSchema, (msg) => convertAddress(msg)),
    onChange({ updated, removed }) {
      const removeWorkloads: string[] = [];
      const removeServices: string[] = [];
      const drop = (name: string) => {
        const was = held.get(name);
        if (!was) return;
        (was.kind === 'workload' ? removeWorkloads : removeServices).push(was.key);
        held.delete(name);
      };
      for (const name of removed) drop(name);
      const upsertWorkloads = [];
      const upsertServices = [];
      for (const [name, value] of updated) {
        const key = value.kind === 'workload' ? value.workload.uid : serviceKey(value.service);
        const was = held.get(name);
        // A name that changed kind or key: the old entry goes.
        if (was && (was.kind !== value.kind || was.key !== key)) drop(name);
        held.set(name, { kind: value.kind, key });
        if (value.kind === 'workload') upsertWorkloads.push(value.workload);
        else upsertServices.push(value.service);
      }
      store.apply({ upsertWorkloads, removeWorkloads, upsertServices, removeServices });
      onSynced();
    },
  };
}

/** Authorization resources, named "<namespace>/<name>". */
export function authorizationHandler(
  store: StateStore,
  onSynced: () => void,
): ResourceHandler<Authorization> {
  const held = new Map<string, string>();
  return {
    decode: protoDecoder(AuthorizationSchema, (msg) => convertAuthorization(msg)),
    onChange({ updated, removed }) {
      const removePolicies: string[] = [];
      for (const name of removed) {
        const key = held.get(name);
        if (key !== undefined) removePolicies.push(key);
        held.delete(name);
      }
      for (const [name, policy] of updated) {
        const was = held.get(name);
        if (was !== undefined && was !== policyKey(policy)) removePolicies.push(was);
        held.set(name, policyKey(policy));
      }
      store.apply({ upsertPolicies: [...updated.values()], removePolicies });
      onSynced();
    },
  };
}
