// Turns a protoc-gen-es generated service descriptor into a @grpc/grpc-js service definition,
// so servers and clients use generated message types directly.
import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  MethodDefinition,
} from '@grpc/grpc-js';
import { ProtoDecodeError } from './decode-error.js';

type MethodShape = GenServiceMethods[string];
/** Request message type of a generated method. */
export type RequestOf<M extends MethodShape> = MessageShape<M['input']>;
/** Response message type of a generated method. */
export type ResponseOf<M extends MethodShape> = MessageShape<M['output']>;
/** The method map of a generated service, e.g. MethodsOf<typeof IstioCertificateService>. */
export type MethodsOf<S> = S extends GenService<infer T> ? T : never;

/**
 * grpc-js method definitions keyed by the method's lowerCamelCase name (e.g. createCertificate):
 * `GrpcServiceDefinition<typeof Svc>`.
 */
export type GrpcServiceDefinition<S> = DefinitionOf<MethodsOf<S>>;

type DefinitionOf<T extends GenServiceMethods> = {
  readonly [K in keyof T]: MethodDefinition<RequestOf<T[K]>, ResponseOf<T[K]>>;
};

/**
 * Typed handlers for `server.addService(grpcService(Svc), impl)`:
 * `GrpcServiceImplementation<typeof Svc>`.
 */
export type GrpcServiceImplementation<S> = ImplementationOf<MethodsOf<S>>;

type ImplementationOf<T extends GenServiceMethods> = {
  [K in keyof T]: T[K]['methodKind'] extends 'unary'
    ? handleUnaryCall<RequestOf<T[K]>, ResponseOf<T[K]>>
    : T[K]['methodKind'] extends 'server_streaming'
      ? handleServerStreamingCall<RequestOf<T[K]>, ResponseOf<T[K]>>
      : T[K]['methodKind'] extends 'client_streaming'
        ? handleClientStreamingCall<RequestOf<T[K]>, ResponseOf<T[K]>>
        : handleBidiStreamingCall<RequestOf<T[K]>, ResponseOf<T[K]>>;
};

/**
 * The grpc-js definition of a generated service: path "/<package>.<Service>/<Method>", streaming
 * flags from the method kind, protobuf binary encoding. Bytes that do not decode raise a
 * ProtoDecodeError, which grpc-js turns into status INTERNAL for that call.
 */
export function grpcService<T extends GenServiceMethods>(service: GenService<T>): DefinitionOf<T> {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream:
        method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream:
        method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    };
  }
  return definition as DefinitionOf<T>;
}

function serializer(schema: DescMessage): (message: unknown) => Buffer {
  return (message) => {
    const bytes = toBinary(schema, message as MessageShape<DescMessage>);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return fromBinary(schema, bytes);
    } catch (err) {
      throw new ProtoDecodeError(schema.typeName, err);
    }
  };
}
