// Serializing responses with each resource encoded once. Every wildcard stream of a type is sent
// the same resource objects (the generated result is shared), so the bytes of a delta `Resource`
// (name, version, Any) or a SotW Any are computed the first time one is written and reused by all
// other streams: a first sync of 100 ztunnels encodes the mesh once, not 100 times. A response is
// its other fields encoded as usual, followed by one length-delimited field per resource (protobuf
// parsers accept fields in any order; the bytes decode to the same message).
import { create, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
  ResourceSchema,
  type DeltaDiscoveryResponse,
  type DiscoveryResponse,
  type Resource,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';

// The delta Resource message made for an Any, reused while its name and version stay the same.
const wireResources = new WeakMap<Any, Resource>();

/** The `Resource` message for `resource` under `name` and `version`, the same object on every call. */
export function wireResource(name: string, version: string, resource: Any): Resource {
  const cached = wireResources.get(resource);
  if (cached && cached.name === name && cached.version === version) return cached;
  const made = create(ResourceSchema, { name, version, resource });
  wireResources.set(resource, made);
  return made;
}

// Each item's bytes framed as one field of its response (tag, length, message), by field number.
const framedItems = new Map<number, WeakMap<object, Uint8Array>>();

function framedOnce<Desc extends DescMessage>(
  fieldNumber: number,
  schema: Desc,
  item: MessageShape<Desc>,
): Uint8Array {
  let cache = framedItems.get(fieldNumber);
  if (!cache) framedItems.set(fieldNumber, (cache = new WeakMap()));
  let framed = cache.get(item);
  if (!framed) {
    const bytes = toBinary(schema, item);
    const tag = varint((fieldNumber << 3) | 2);
    const len = varint(bytes.length);
    framed = new Uint8Array(tag.length + len.length + bytes.length);
    framed.set(tag, 0);
    framed.set(len, tag.length);
    framed.set(bytes, tag.length + len.length);
    cache.set(item, framed);
  }
  return framed;
}

/** Serializes `message` with the items of its repeated message field `field` encoded once each. */
function serializeWithItems<Desc extends DescMessage, ItemDesc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  field: string,
  itemSchema: ItemDesc,
): Buffer {
  const desc = schema.fields.find((f) => f.localName === field);
  if (!desc) throw new Error(`${schema.typeName} has no field ${field}`);
  const items = (message as Record<string, unknown>)[field] as MessageShape<ItemDesc>[];
  const head = toBinary(schema, { ...message, [field]: [] } as MessageShape<Desc>);
  const parts = items.map((item) => framedOnce(desc.number, itemSchema, item));
  let size = head.length;
  for (const p of parts) size += p.length;
  const out = Buffer.allocUnsafe(size);
  out.set(head, 0);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function varint(n: number): Uint8Array {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  bytes.push(n);
  return Uint8Array.from(bytes);
}

export function serializeDeltaResponse(message: DeltaDiscoveryResponse): Buffer {
  return serializeWithItems(DeltaDiscoveryResponseSchema, message, 'resources', ResourceSchema);
}

export function serializeSotwResponse(message: DiscoveryResponse): Buffer {
  return serializeWithItems(DiscoveryResponseSchema, message, 'resources', AnySchema);
}
