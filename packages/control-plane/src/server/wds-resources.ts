// Translated WDS messages packed once per snapshot for every ztunnel stream. A resource whose
// message did not change keeps its previous Any object (and so its cached version hash), which is
// what makes delta pushes incremental: one changed pod -> one Address sent. Unchanged messages
// are compared, not re-encoded.
import { equals, type DescMessage, type Message, type MessageShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, packAny } from '@trellis/api';
import { AuthorizationSchema } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { AddressSchema } from '@trellis/api/gen/istio/workload/workload_pb.js';
import { resourceVersion, type GeneratedResource, type GeneratedResources } from '@trellis/xds';
import { forEachChange, withChanges } from '../collections/map-changes.js';
import { SortedMap } from '../collections/sorted-map.js';
import type { WdsResources } from '../translate/index.js';

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

// The message each packed resource was encoded from, to compare the next message with.
const sources = new WeakMap<GeneratedResource, Message>();
// The message map each packed map was made from: the next map is packed from the differences.
const packedFrom = new WeakMap<GeneratedResources, ReadonlyMap<string, Message>>();

/**
 * Packs messages by name with `encode`, keeping the entry of `before` whose source message is the
 * same object or `equals` the new one; `encode` runs only for new and changed messages. When
 * `before` was packed from an earlier map, only the names whose message object changed since are
 * looked at (the incremental translation keeps unchanged messages), in a copy of `before`.
 */
export function packMessages<Desc extends DescMessage>(
  messages: ReadonlyMap<string, MessageShape<Desc>>,
  before: GeneratedResources | undefined,
  schema: Desc,
  encode: (m: MessageShape<Desc>) => Any,
): GeneratedResources {
  const pack = (name: string, message: MessageShape<Desc>): GeneratedResource => {
    const old = before?.get(name);
    const source = old && sources.get(old);
    if (
      old &&
      source &&
      (source === message || equals(schema, source as MessageShape<Desc>, message))
    )
      return old;
    const any = encode(message);
    // Equal bytes from a message that compares unequal (e.g. a default written explicitly): keep
    // the old object and version.
    const kept =
      old && equals(AnySchema, old.resource, any)
        ? old
        : { resource: any, version: resourceVersion(any) };
    sources.set(kept, message);
    return kept;
  };
  const from = before && packedFrom.get(before);
  let out: GeneratedResources;
  if (before && from) {
    const changes = new Map<string, GeneratedResource | undefined>();
    forEachChange<Message>(from, messages, (name, message) => {
      const packed = message && pack(name, message as MessageShape<Desc>);
      if (packed !== before.get(name)) changes.set(name, packed);
    });
    out = withChanges(before, changes);
  } else {
    // A SortedMap, so later packs make new versions of it.
    const all: [string, GeneratedResource][] = [];
    for (const [name, message] of messages) all.push([name, pack(name, message)]);
    out = SortedMap.from(all);
  }
  packedFrom.set(out, messages);
  return out;
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
