// The client's public types: per-type handlers that decode at the edge, the changes they receive,
// and the client itself.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import type { NodeSchema } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import type { Logger, Result } from '@trellis/core';

export interface ResourceChange<T> {
  readonly typeUrl: string;
  /** version_info (SotW) or system_version_info (delta) of the response. */
  readonly version: string;
  /** Resources added or changed by this response, decoded. */
  readonly updated: ReadonlyMap<string, T>;
  /** Names removed (delta: also names the server reports as not existing). */
  readonly removed: readonly string[];
  /** Every resource held after the change. */
  readonly resources: ReadonlyMap<string, T>;
}

export interface ResourceHandler<T> {
  /**
   * Decodes and validates one resource. `name` comes from the delta wrapper; state-of-the-world
   * responses carry bare messages, so it is undefined there and `resourceName` names the value.
   * Throwing counts as a rejection with the error's message.
   */
  decode(resource: Any, name: string | undefined): Result<T>;
  /**
   * State of the world only (required there): the name inside a decoded value, e.g. Listener.name
   * or ClusterLoadAssignment.cluster_name.
   */
  resourceName?(value: T): string;
  /**
   * Receives each accepted response (also empty ones: the first tells the type is synced).
   * Throwing NACKs the response with the error's message, and the previous state is kept.
   */
  onChange(change: ResourceChange<T>): void;
  /**
   * State of the world only: whether a response lists every resource, so that a held one missing
   * from it is removed. Default true, except for RouteConfiguration and ClusterLoadAssignment,
   * which servers may send partially.
   */
  readonly sotwFullState?: boolean;
}

/** connecting: a stream is opening; connected: the server answered; backoff: waiting to reconnect. */
export type ConnectionState = 'connecting' | 'connected' | 'backoff' | 'closed';

export interface XdsClientOptions {
  /** gRPC target, e.g. "istiod.istio-system.svc:15012" or "127.0.0.1:15010". */
  readonly address: string;
  readonly credentials: ChannelCredentials;
  /** Sent on the first request of every stream. */
  readonly node: MessageInitShape<typeof NodeSchema>;
  /**
   * grpc-js channel options; `grpc.max_receive_message_length` defaults to 64 MiB
   * (DEFAULT_MAX_RECEIVE_BYTES) instead of grpc-js's 4 MiB.
   */
  readonly channelOptions?: ChannelOptions;
  /**
   * How long a stream may wait for its connection (TCP and TLS) to the server before the client
   * gives it up and dials again on a new connection (default 10 s). grpc-js has no connect
   * timeout: a SYN to an address that no longer answers (e.g. a Service VIP still routed to the
   * control plane pod that just went away) would otherwise hold the stream for the kernel's ~2 min.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Reconnect delays: from initialMs (250) doubling to maxMs (30 s), jittered; until the server
   * has answered once, at most untilFirstAnswerMs (5 s): a proxy without configuration serves
   * nothing, and a server that was not there yet (or its name did not resolve yet: a cluster DNS
   * caches a missing name for up to 30 s) is tried again soon after it is.
   */
  readonly backoff?: {
    readonly initialMs?: number;
    readonly maxMs?: number;
    readonly untilFirstAnswerMs?: number;
  };
  /** Default: silent. */
  readonly logger?: Logger;
}

/** One type URL's subscription on a client. */
export interface Watch<T> {
  readonly typeUrl: string;
  /** Adds names ("*" for every resource of the type). */
  subscribe(names: readonly string[]): void;
  /** Removes names ("*" ends the wildcard); resources no longer covered are dropped and reported removed. */
  unsubscribe(names: readonly string[]): void;
  /** Resources held (the last accepted state). */
  resources(): ReadonlyMap<string, T>;
  /** Version of the last accepted response ("" before one). */
  version(): string;
  /** Reason of the last NACK sent, if any. */
  lastError(): string | undefined;
}

export interface XdsClient {
  readonly protocol: 'sotw' | 'delta';
  readonly state: ConnectionState;
  /** Calls `listener` on every state change; returns a function that removes it. */
  onStateChange(listener: (state: ConnectionState) => void): () => void;
  /**
   * Starts watching a type with `names` (default ["*"]). One watch per type URL; a second call for
   * the same type throws.
   */
  watch<T>(typeUrl: string, handler: ResourceHandler<T>, names?: readonly string[]): Watch<T>;
  /** Ends the stream and closes the channel. */
  close(): void;
}
