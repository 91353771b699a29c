// Packing messages into google.protobuf.Any and unpacking them again, with clear errors.
import {
  fromBinary,
  type DescMessage,
  type Message,
  type MessageShape,
  type Registry,
} from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { ProtoDecodeError } from './decode-error.js';
import { apiRegistry } from './registry.js';
import { typeUrlOf } from './type-urls.js';

/** Wraps a message in an Any with type URL "type.googleapis.com/<full name>". */
export function packAny<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Any {
  return anyPack(schema, message);
}

/** Unpacks an Any whose type is in the registry (apiRegistry by default). */
export function unpackAny(any: Any, registry: Registry = apiRegistry): Message {
  const schema = registry.getMessage(typeNameOf(any));
  if (!schema) throw new Error(`cannot unpack Any: unknown type URL "${any.typeUrl}"`);
  return decode(schema, any);
}

/** Unpacks an Any that must hold `schema`; any other type URL is an error. */
export function unpackAnyAs<Desc extends DescMessage>(any: Any, schema: Desc): MessageShape<Desc> {
  if (any.typeUrl !== typeUrlOf(schema.typeName)) {
    throw new Error(
      `cannot unpack Any: expected type URL "${typeUrlOf(schema.typeName)}", got "${any.typeUrl}"`,
    );
  }
  return decode(schema, any);
}

function typeNameOf(any: Any): string {
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
  if (name === '') throw new Error(`cannot unpack Any: invalid type URL "${any.typeUrl}"`);
  return name;
}

function decode<Desc extends DescMessage>(schema: Desc, any: Any): MessageShape<Desc> {
  try {
    return fromBinary(schema, any.value);
  } catch (err) {
    throw new ProtoDecodeError(schema.typeName, err);
  }
}
