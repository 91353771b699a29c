// One xDS stream on the server: its proxy, its watches (one per type URL) and the sending side.
//
// Flow control: per type, at most one response is outstanding. After sending one, the server sends
// nothing more of that type until the client ACKs or NACKs it (by response_nonce). Changes that
// arrive meanwhile only mark the type pending; once the ACK/NACK arrives, one response built from
// the newest snapshot carries all of them. Also, when grpc-js reports a full write buffer
// (write() returns false) the connection sends nothing until 'drain'. Neither ever delays another
// connection: each one is served from the push queue on its own turn.
import { Metadata, status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '@trellis/core';
import type { XdsMetrics } from './metrics.js';
import { proxyFromNode } from './proxy.js';
import { versionsOf, type Versions } from './resource-index.js';
import type { ConnectionDebug, GenerateContext, GeneratedResources, Proxy } from './types.js';
import {
  caughtUp,
  readyToSend,
  recordSent,
  watchDebug,
  markChanged,
  newWatch,
  type Watch,
} from './watch.js';
import type { Node } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import { clientText } from './client-text.js';

export interface Published<S> {
  readonly value: S;
  readonly version: string;
}

/** What a connection needs from its server. */
export interface ServerContext<S> {
  current(): Published<S> | undefined;
  /** Runs (or reuses, for a scoped generator) the generator of a type; throws what it throws. */
  generate(
    typeUrl: string,
    snapshot: Published<S>,
    proxy: Proxy,
    context: GenerateContext,
  ): GeneratedResources;
  readonly metrics: XdsMetrics;
  readonly log: Logger;
  /** The types whose client state removals of `typeUrl` wait for (XdsServerOptions.removalsAfter). */
  removalsAfter(typeUrl: string): readonly string[];
  nonce(): string;
  enqueue(conn: Connection<S>): void;
  register(conn: Connection<S>): void;
  unregister(conn: Connection<S>): void;
  nextConnectionId(nodeId: string): string;
}

/** The resources of one type a watch should hold now. */
export interface WatchResources {
  /** May hold names outside the subscription when `all` is false; look names up via `versions`. */
  readonly resources: GeneratedResources;
  /** name -> version of exactly the subscribed resources. */
  readonly versions: Versions;
  /** The subscription is a wildcard: `versions` is the generated result's shared map. */
  readonly all: boolean;
}

const NO_RESOURCES: WatchResources = { resources: new Map(), versions: new Map(), all: false };

/**
 * Decides, when a stream's first request names its node, whether the stream is served; a refusal
 * ends it with that status (e.g. a node id claiming another namespace than the caller proved).
 */
export type NodeAdmission = (
  proxy: Proxy,
  call: ServerDuplexStream<unknown, unknown>,
) => { readonly code: status; readonly details: string } | undefined;

/** Builds the response a watch needs now, or undefined when nothing has to be sent. */
export type BuildResponse<S> = (
  conn: Connection<S>,
  w: Watch,
  snapshot: Published<S>,
) => { readonly nonce: string } | undefined;

export class Connection<S> {
  readonly watches = new Map<string, Watch>();
  readonly connectedAt = new Date();
  proxy: Proxy | undefined;
  log: Logger;
  /** Resolves when the stream is over (ended, cancelled or failed). */
  readonly finished: Promise<void>;
  private writable = true;
  private closed = false;

  constructor(
    readonly protocol: 'sotw' | 'delta',
    private readonly call: ServerDuplexStream<unknown, unknown>,
    readonly ctx: ServerContext<S>,
    private readonly build: BuildResponse<S>,
    private readonly admit?: NodeAdmission,
  ) {
    this.log = ctx.log.child({ peer: call.getPeer(), protocol });
    this.finished = new Promise((resolve) => {
      const done = () => {
        if (!this.closed) {
          this.closed = true;
          if (this.proxy) {
            ctx.unregister(this);
            this.log.info('xDS stream closed');
          }
        }
        resolve();
      };
      call.on('finish', done);
      call.on('close', done);
      call.on('cancelled', done);
      call.on('error', (err: Error) => {
        this.log.debug({ err: err.message }, 'xDS stream error');
        done();
      });
    });
    // The client half-closed: finish our side too.
    call.on('end', () => void this.end());
    // Response headers now, so the client knows the stream is up before the first response.
    call.sendMetadata(new Metadata());
  }

  /** Handles the node of a request; the first request of a stream must carry one with an id. */
  identify(node: Node | undefined): boolean {
    if (this.proxy) return true;
    if (this.closed) return false; // refused already
    if (!node?.id) {
      this.fail(status.INVALID_ARGUMENT, 'the first request on an xDS stream must carry node.id');
      return false;
    }
    const id = this.ctx.nextConnectionId(node.id);
    const proxy = proxyFromNode(node, this.call.getPeer(), id);
    const refusal = this.admit?.(proxy, this.call);
    if (refusal) {
      this.fail(refusal.code, refusal.details);
      return false;
    }
    this.proxy = proxy;
    this.log = this.log.child({ proxy: clientText(node.id), conn: clientText(id) });
    this.ctx.register(this);
    this.log.info('xDS stream opened');
    return true;
  }

  watch(typeUrl: string): { watch: Watch; first: boolean } {
    let watch = this.watches.get(typeUrl);
    if (watch) return { watch, first: false };
    watch = newWatch(typeUrl);
    this.watches.set(typeUrl, watch);
    return { watch, first: true };
  }

  /** Marks watches of the changed types (all when `types` is undefined); true if any has work. */
  changed(types: ReadonlySet<string> | undefined, since: number): boolean {
    let work = false;
    for (const w of this.watches.values()) {
      if (!types || types.has(w.typeUrl)) markChanged(w, since);
      work ||= w.dirty || w.mustRespond;
    }
    return work;
  }

  /** Sends every response that is owed and allowed now. Called from the push queue. */
  flush(): void {
    const snapshot = this.ctx.current();
    if (this.closed || !this.writable || !this.proxy || !snapshot) return;
    for (const w of this.watches.values()) {
      if (!readyToSend(w)) continue;
      const since = w.pendingSince;
      const response = this.build(this, w, snapshot);
      w.dirty = false;
      w.mustRespond = false;
      w.pendingSince = undefined;
      if (!response) continue;
      recordSent(w, response.nonce, snapshot.version);
      this.ctx.metrics.pushed(w.typeUrl, since);
      this.log.debug({ type: w.typeUrl, nonce: response.nonce, version: snapshot.version }, 'push');
      if (!this.call.write(response)) {
        this.writable = false;
        this.call.once('drain', () => {
          this.writable = true;
          this.ctx.enqueue(this);
        });
        return;
      }
    }
    // A type that had nothing to send is caught up now too.
    this.releaseRemovals();
  }

  /**
   * Make-before-break: whether removals of `w`'s type may be sent now, i.e. every type they wait
   * for (e.g. listeners and routes, for clusters) is caught up on this stream, so what the client
   * holds of those no longer names a removed resource unless the server means it to.
   */
  mayRemove(w: Watch): boolean {
    for (const type of this.ctx.removalsAfter(w.typeUrl)) {
      const d = this.watches.get(type);
      if (d && !caughtUp(d)) return false;
    }
    return true;
  }

  /** After an ACK, a NACK or a flush: watches holding removals that may now go are marked to send them. */
  releaseRemovals(): void {
    let work = false;
    for (const w of this.watches.values()) {
      if (w.retained.size === 0 || !this.mayRemove(w)) continue;
      markChanged(w, performance.now());
      work ||= readyToSend(w);
    }
    if (work) this.ctx.enqueue(this);
  }

  /**
   * The resources of a watch's type for this proxy, limited to its subscription; undefined if the
   * generator failed. A wildcard watch gets the generated result and its cached version map
   * without a copy; a named one a map of its names.
   */
  resources(w: Watch, snapshot: Published<S>): WatchResources | undefined {
    if (!this.proxy) return NO_RESOURCES;
    let generated;
    try {
      generated = this.ctx.generate(w.typeUrl, snapshot, this.proxy, {
        subscription: w.subscription,
        protocol: this.protocol,
        snapshotVersion: snapshot.version,
      });
    } catch (err) {
      this.log.error({ type: w.typeUrl, err: String(err) }, 'generator failed; nothing sent');
      return undefined;
    }
    const all = versionsOf(generated);
    if (w.subscription.wildcard) return { resources: generated, versions: all, all: true };
    const versions = new Map<string, string>();
    for (const name of w.subscription.names) {
      const version = all.get(name);
      if (version !== undefined) versions.set(name, version);
    }
    return { resources: generated, versions, all: false };
  }

  /** Schedules a flush if a watch has work. */
  poke(w: Watch): void {
    if (readyToSend(w)) this.ctx.enqueue(this);
  }

  /** Ends the stream with an error status. */
  fail(code: status, details: string): void {
    this.log.warn({ code, details }, 'xDS stream rejected');
    this.call.emit('error', Object.assign(new Error(details), { code, details }));
  }

  /** Ends the stream with OK; resolves when it is done or after `graceMs`. */
  end(graceMs = Infinity): Promise<void> {
    if (!this.closed && this.call.writable) this.call.end();
    if (graceMs === Infinity) return this.finished;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    return Promise.race([this.finished, grace]).finally(() => clearTimeout(timer));
  }

  debug(): ConnectionDebug {
    return {
      connectionId: this.proxy?.connectionId ?? '',
      proxyId: this.proxy?.id ?? '',
      peer: this.proxy?.peer ?? '',
      protocol: this.protocol,
      connectedAt: this.connectedAt.toISOString(),
      types: [...this.watches.values()]
        .sort((a, b) => a.typeUrl.localeCompare(b.typeUrl))
        .map((w) => watchDebug(w, this.protocol === 'delta')),
    };
  }
}
