// Translated WDS messages packed once per snapshot for every ztunnel stream. A resource whose
// message did not change keeps its previous Any object (and so its cached version hash), which is
// what makes delta pushes incremental: one changed pod -> one Address sent. Unchanged messages
// are compared, not re-encoded.
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, packAny } from '@trellis/api';
import { AuthorizationSchema } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { AddressSchema } from '@trellis/api/gen/istio/workload/workload_pb.js';
import type { GeneratedResources } from '@trellis/xds';
import { forEachChange } from '../collections/map-changes.js';
import type { WdsResources } from '../translate/index.js';
import { packMessages } from '../translate/pack-messages.js';

export const WDS_TYPE_URLS = [ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL] as const;

/** Packed WDS resources by type URL, then by resource name. */
export type PackedWds = ReadonlyMap<string, GeneratedResources>;

export const EMPTY_WDS: PackedWds = new Map(WDS_TYPE_URLS.map((t) => [t, new Map()]));

/**
 * Packs `wds`, reusing the packed resource of `previous` for every message equal to the one it was
 * packed from: only new and changed messages are encoded.
 */
export function packWds(wds: WdsResources, previous: PackedWds = EMPTY_WDS): PackedWds {
  return new Map<string, GeneratedResources>([
    [
      ADDRESS_TYPE_URL,
      packMessages(wds.addresses, previous.get(ADDRESS_TYPE_URL), AddressSchema, (m) =>
        packAny(AddressSchema, m),
      ),
    ],
    [
      AUTHORIZATION_TYPE_URL,
      packMessages(
        wds.authorizations,
        previous.get(AUTHORIZATION_TYPE_URL),
        AuthorizationSchema,
        (m) => packAny(AuthorizationSchema, m),
      ),
    ],
  ]);
}

/** Type URLs whose resources differ (a name added or removed, or a version changed). */
export function changedWdsTypes(before: PackedWds, after: PackedWds): string[] {
  return WDS_TYPE_URLS.filter((t) => !sameResources(before.get(t), after.get(t)));
}

function sameResources(
  a: GeneratedResources | undefined,
  b: GeneratedResources | undefined,
): boolean {
  if (!a || !b || a === b) return a === b;
  let same = true;
  forEachChange(a, b, (name, r) => void (same &&= a.get(name)?.version === r?.version));
  return same;
}
