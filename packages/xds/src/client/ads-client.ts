// What the delta and state-of-the-world clients share: the gRPC client, the session, and the
// per-type watches with on-the-fly subscribe/unsubscribe. Subclasses build the wire requests.
import { connectivityState, type ClientDuplexStream } from '@grpc/grpc-js';
import { grpcClientConstructor, type GrpcClient } from '@trellis/api';
import type { Node } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import { AggregatedDiscoveryService } from '@trellis/api/gen/envoy/service/discovery/v3/ads_pb.js';
import { createLogger, type Logger } from '@trellis/core';
import { applyDelta, NOTHING, sameSubscription, type Subscription } from '../subscription.js';
import { Session } from './session.js';
import { TypeState } from './type-state.js';
import type {
  ConnectionState,
  ResourceHandler,
  Watch,
  XdsClient,
  XdsClientOptions,
} from './types.js';

/**
 * The clients' default receive limit (grpc-js's own is 4 MiB): a first sync of a large mesh is one
 * response holding every resource of a type (~3.7 MiB for 10k pods).
 */
export const DEFAULT_MAX_RECEIVE_BYTES = 64 * 1024 * 1024;

export type AdsGrpcClient = GrpcClient<typeof AggregatedDiscoveryService>;

export abstract class AdsClient<Req extends { node?: Node }, Res> implements XdsClient {
  abstract readonly protocol: 'sotw' | 'delta';
  protected readonly types = new Map<string, TypeState<unknown>>();
  protected readonly log: Logger;
  protected grpc: AdsGrpcClient;
  readonly #dial: () => AdsGrpcClient;
  protected readonly session: Session<Req, Res>;

  constructor(opts: XdsClientOptions) {
    this.log = opts.logger ?? createLogger({ level: 'silent' }).root;
    const Ads = grpcClientConstructor(AggregatedDiscoveryService);
    // A channel of its own (local subchannel pool): redialling replaces the connection instead of
    // waiting on one shared with other channels to the same address.
    this.#dial = () =>
      new Ads(opts.address, opts.credentials, {
        'grpc.max_receive_message_length': DEFAULT_MAX_RECEIVE_BYTES,
        'grpc.use_local_subchannel_pool': 1,
        ...opts.channelOptions,
      });
    this.grpc = this.#dial();
    this.session = new Session<Req, Res>(opts, this.log, {
      open: () => this.open(),
      resume: () => [...this.types.values()].flatMap((t) => this.resumeRequest(t) ?? []),
      respond: (res) => this.respond(res),
      connecting: () =>
        this.grpc.getChannel().getConnectivityState(false) !== connectivityState.READY,
      redial: () => {
        const stale = this.grpc;
        this.grpc = this.#dial();
        stale.close();
      },
    });
  }

  /** Opens the first stream; subclasses call it at the end of their constructor. */
  protected start(): void {
    this.session.start();
  }

  protected abstract open(): ClientDuplexStream<Req, Res>;
  /** The request announcing a type's subscription on a new stream (undefined: nothing to ask). */
  protected abstract resumeRequest(t: TypeState<unknown>): Req | undefined;
  /** The request for a subscription change on the open stream. */
  protected abstract changeRequest(
    t: TypeState<unknown>,
    before: Subscription,
    subscribe: readonly string[],
    unsubscribe: readonly string[],
  ): Req | undefined;
  protected abstract respond(res: Res): Req | undefined;

  get state(): ConnectionState {
    return this.session.state;
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    return this.session.onStateChange(listener);
  }

  watch<T>(
    typeUrl: string,
    handler: ResourceHandler<T>,
    names: readonly string[] = ['*'],
  ): Watch<T> {
    if (this.types.has(typeUrl)) throw new Error(`xDS client: ${typeUrl} is already watched`);
    const sub = applyDelta(NOTHING, typeUrl, names, [], false);
    const t = new TypeState<T>(typeUrl, handler, sub);
    this.types.set(typeUrl, t as TypeState<unknown>);
    const req = this.resumeRequest(t as TypeState<unknown>);
    if (req) this.session.send(req);
    const change = (subscribe: readonly string[], unsubscribe: readonly string[]) => {
      const before = t.subscription;
      t.subscription = applyDelta(before, typeUrl, subscribe, unsubscribe, false);
      if (sameSubscription(before, t.subscription)) return;
      t.prune();
      const r = this.changeRequest(t as TypeState<unknown>, before, subscribe, unsubscribe);
      if (r) this.session.send(r);
    };
    return {
      typeUrl,
      subscribe: (n) => change(n, []),
      unsubscribe: (n) => change([], n),
      resources: () => t.values,
      version: () => t.version,
      lastError: () => t.lastError,
    };
  }

  close(): void {
    this.session.close();
    this.grpc.close();
  }

  /** Logs and records a rejection; returns the reason. */
  protected rejected(
    t: TypeState<unknown> | undefined,
    typeUrl: string,
    nonce: string,
    reason: string,
  ): string {
    if (t) t.lastError = reason;
    this.log.warn({ type: typeUrl, nonce, reason }, 'xDS response rejected (NACK)');
    return reason;
  }
}
