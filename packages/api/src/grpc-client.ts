// Typed grpc-js client classes for generated services.
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import {
  makeGenericClientConstructor,
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientDuplexStream,
  type ClientOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  type Metadata,
  type requestCallback,
} from '@grpc/grpc-js';
import { grpcService, type MethodsOf, type RequestOf, type ResponseOf } from './grpc-service.js';

export interface UnaryClientMethod<I, O> {
  (request: I, callback: requestCallback<O>): ClientUnaryCall;
  (request: I, metadata: Metadata, callback: requestCallback<O>): ClientUnaryCall;
  (request: I, options: Partial<CallOptions>, callback: requestCallback<O>): ClientUnaryCall;
  (
    request: I,
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: requestCallback<O>,
  ): ClientUnaryCall;
}

export interface ServerStreamingClientMethod<I, O> {
  (request: I, options?: Partial<CallOptions>): ClientReadableStream<O>;
  (request: I, metadata?: Metadata, options?: Partial<CallOptions>): ClientReadableStream<O>;
}

export interface ClientStreamingClientMethod<I, O> {
  (callback: requestCallback<O>): ClientWritableStream<I>;
  (metadata: Metadata, callback: requestCallback<O>): ClientWritableStream<I>;
  (options: Partial<CallOptions>, callback: requestCallback<O>): ClientWritableStream<I>;
  (
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: requestCallback<O>,
  ): ClientWritableStream<I>;
}

export interface BidiStreamingClientMethod<I, O> {
  (options?: Partial<CallOptions>): ClientDuplexStream<I, O>;
  (metadata?: Metadata, options?: Partial<CallOptions>): ClientDuplexStream<I, O>;
}

/** A grpc-js client with one typed method per RPC, named in lowerCamelCase: `GrpcClient<typeof Svc>`. */
export type GrpcClient<S> = Client & ClientMethodsOf<MethodsOf<S>>;

type ClientMethodsOf<T extends GenServiceMethods> = {
  [K in keyof T]: T[K]['methodKind'] extends 'unary'
    ? UnaryClientMethod<RequestOf<T[K]>, ResponseOf<T[K]>>
    : T[K]['methodKind'] extends 'server_streaming'
      ? ServerStreamingClientMethod<RequestOf<T[K]>, ResponseOf<T[K]>>
      : T[K]['methodKind'] extends 'client_streaming'
        ? ClientStreamingClientMethod<RequestOf<T[K]>, ResponseOf<T[K]>>
        : BidiStreamingClientMethod<RequestOf<T[K]>, ResponseOf<T[K]>>;
};

export type GrpcClientConstructor<S> = new (
  address: string,
  credentials: ChannelCredentials,
  options?: ClientOptions,
) => GrpcClient<S>;

/** A client class for a generated service, e.g. `new (grpcClientConstructor(IstioCertificateService))(addr, creds)`. */
export function grpcClientConstructor<T extends GenServiceMethods>(
  service: GenService<T>,
): GrpcClientConstructor<GenService<T>> {
  return makeGenericClientConstructor(
    grpcService(service),
    service.typeName,
  ) as unknown as GrpcClientConstructor<GenService<T>>;
}
