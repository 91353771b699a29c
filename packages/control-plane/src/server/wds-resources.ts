// Translated WDS messages packed once per snapshot for every ztunnel stream. A resource whose
// bytes did not change keeps its previous Any object (and so its cached version hash), which is
// what makes delta pushes incremental: one changed pod -> one Address sent.
import { equals } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, packAny } from '@trellis/api';
import { AuthorizationSchema } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { AddressSchema } from '@trellis/api/gen/istio/workload/workload_pb.js';
import { resourceVersion, type GeneratedResource, type GeneratedResources } from '@trellis/xds';
import type { WdsResources } from '../translate/index.js';

export const WDS_TYPE_URLS = [ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL] as const;

/** Packed WDS resources by type URL, then by resource name. */
export type PackedWds = ReadonlyMap<string, GeneratedResources>;

export const EMPTY_WDS: PackedWds = new Map(WDS_TYPE_URLS.map((t) => [t, new Map()]));

/** Packs `wds`, reusing the Any of every resource of `previous` whose bytes are unchanged. */
export function packWds(wds: WdsResources, previous: PackedWds = EMPTY_WDS): PackedWds {
  const pack = <T>(typeUrl: string, messages: ReadonlyMap<string, T>, toAny: (m: T) => Any) => {
    const before = previous.get(typeUrl) ?? new Map<string, GeneratedResource>();
    const out = new Map<string, GeneratedResource>();
    for (const [name, message] of messages) {
      const any = toAny(message);
      const old = before.get(name);
      out.set(
        name,
        old && equals(AnySchema, old.resource, any)
          ? old
          : { resource: any, version: resourceVersion(any) },
      );
    }
    return out;
  };
  return new Map<string, GeneratedResources>([
    [ADDRESS_TYPE_URL, pack(ADDRESS_TYPE_URL, wds.addresses, (m) => packAny(AddressSchema, m))],
    [
      AUTHORIZATION_TYPE_URL,
      pack(AUTHORIZATION_TYPE_URL, wds.authorizations, (m) => packAny(AuthorizationSchema, m)),
    ],
  ]);
}

/** Type URLs whose resources differ (a name added or removed, or a version changed). */
export function changedWdsTypes(before: PackedWds, after: PackedWds): string[] {
  return WDS_TYPE_URLS.filter((t) => !sameResources(before.get(t), after.get(t)));
}

function sameResources(a: GeneratedResources | undefined, b: GeneratedResources | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.size !== b.size) return false;
  for (const [name, r] of a) if (b.get(name)?.version !== r.version) return false;
  return true;
}
