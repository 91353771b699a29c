// Translated messages packed into the xDS server's resources: a resource whose message did not
// change keeps its previous Any object (and so its cached version hash), which is what makes delta
// pushes incremental. Unchanged messages are compared, not re-encoded. Used for WDS (server/) and
// the Envoy sets (translate/envoy/). Pure: the caches only remember results per object.
import { equals, type DescMessage, type Message, type MessageShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { resourceVersion, type GeneratedResource, type GeneratedResources } from '@trellis/xds';
import { forEachChange, withChanges } from '../collections/map-changes.js';
import { SortedMap } from '../collections/sorted-map.js';

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
