// The server's public types: what generators see and return, what the owner pushes, what the
// debug view reports.
import type { JsonObject } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { Node } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import type { Subscription } from '../subscription.js';

/** A connected xDS client, as generators see it. */
export interface Proxy {
  /** Unique per stream, e.g. "ztunnel~10.0.0.5~ztunnel-x.istio-system~istio-system.svc.cluster.local-3". */
  readonly connectionId: string;
  /** The node id the client sent. */
  readonly id: string;
  /** The node from the stream's first request. */
  readonly node: Node;
  /** node.metadata, or {} when absent. */
  readonly metadata: JsonObject;
  /** The peer address grpc-js reports, e.g. "127.0.0.1:51234". */
  readonly peer: string;
  /** The parts of an Istio-style node id "<type>~<ip>~<pod>.<ns>~<ns>.svc.<domain>", when it has that shape. */
  readonly istio: IstioNodeId | undefined;
}

export interface IstioNodeId {
  /** "ztunnel", "sidecar", "router", ... */
  readonly type: string;
  readonly ip: string;
  /** The third part, usually "<pod>.<namespace>". */
  readonly id: string;
  /** The fourth part, usually "<namespace>.svc.cluster.local". */
  readonly domain: string;
  /** The first label of the domain. */
  readonly namespace: string;
  /** The id without its ".<namespace>" suffix. */
  readonly podName: string;
}

/** One resource a generator produced. Without `version`, the hash of its bytes is used. */
export interface GeneratedResource {
  readonly resource: Any;
  readonly version?: string;
}

/** Resources of one type keyed by resource name. */
export type GeneratedResources = ReadonlyMap<string, GeneratedResource>;

export interface GenerateContext {
  /** What this proxy subscribed to for the type; the server drops anything outside it. */
  readonly subscription: Subscription;
  readonly protocol: 'sotw' | 'delta';
  /** The version of the snapshot being served. */
  readonly snapshotVersion: string;
}

/**
 * Builds the resources of one type for one proxy from an immutable snapshot. Must not mutate the
 * snapshot or await. Returning resources the proxy did not subscribe to is fine (they are filtered).
 *
 * A generator whose result is the same for a group of proxies declares `scope`: the server calls
 * it once per snapshot, type and scope key and gives every proxy of that scope the same result
 * (`() => ''`: one result for all proxies). Such a generator must return every resource whatever
 * `context` says; the server passes a wildcard subscription. See `sharedGenerator`.
 */
export interface Generator<S> {
  (typeUrl: string, snapshot: S, proxy: Proxy, context: GenerateContext): GeneratedResources;
  readonly scope?: (proxy: Proxy, typeUrl: string) => string;
}

/** A change the owner publishes with `server.update`. */
export interface SnapshotUpdate<S> {
  /** The new immutable snapshot; it replaces the previous one. */
  readonly snapshot: S;
  /** Type URLs whose resources may have changed; omitted means every type. */
  readonly types?: Iterable<string>;
}

/** Per connected stream, for /debug/syncz. */
export interface ConnectionDebug {
  readonly connectionId: string;
  readonly proxyId: string;
  readonly peer: string;
  readonly protocol: 'sotw' | 'delta';
  /** ISO time the stream opened. */
  readonly connectedAt: string;
  readonly types: readonly TypeDebug[];
}

export interface TypeDebug {
  readonly typeUrl: string;
  /** Subscribed names, "*" first for a wildcard subscription. */
  readonly subscribed: readonly string[];
  /** Snapshot version and nonce of the last response sent. */
  readonly sentVersion: string | undefined;
  readonly sentNonce: string | undefined;
  /** Snapshot version and nonce of the last response the client ACKed. */
  readonly ackedVersion: string | undefined;
  readonly ackedNonce: string | undefined;
  /** A response was sent and its ACK/NACK has not arrived yet. */
  readonly awaitingAck: boolean;
  /** Changes are waiting to be sent (after the ACK, or when the stream can take more). */
  readonly pending: boolean;
  /** Resources the client holds as far as the server knows (last response's count for SotW). */
  readonly resources: number;
  readonly responses: number;
  readonly nacks: number;
  /** error_detail.message of the last NACK. */
  readonly lastError: string | undefined;
  /** Names removed from the type but still served until the types naming them caught up. */
  readonly retained: readonly string[];
}
