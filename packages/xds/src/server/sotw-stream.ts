// StreamAggregatedResources: the state-of-the-world protocol on one stream. Every response holds
// all subscribed resources of its type. A request whose response_nonce is the last one sent is an
// ACK (or a NACK with error_detail) and may also change the subscription; a request with an older
// nonce is stale and ignored (the client will re-send once it has seen the newest response).
import { create } from '@bufbuild/protobuf';
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  DiscoveryResponseSchema,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { covers, sameSubscription, sotwSubscription } from '../subscription.js';
import {
  Connection,
  type NodeAdmission,
  type Published,
  type ServerContext,
} from './connection.js';
import { contentVersion } from '../versioning.js';
import type { Versions } from './resource-index.js';
import { acknowledge, type RetainedResource, type Watch } from './watch.js';
import { clientText } from './client-text.js';

export function serveSotw<S>(
  call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>,
  ctx: ServerContext<S>,
  admit?: NodeAdmission,
): Connection<S> {
  const conn = new Connection<S>(
    'sotw',
    call as ServerDuplexStream<unknown, unknown>,
    ctx,
    build,
    admit,
  );
  call.on('data', (req: DiscoveryRequest) => onRequest(conn, req));
  return conn;
}

function onRequest<S>(conn: Connection<S>, req: DiscoveryRequest): void {
  if (!conn.identify(req.node)) return;
  if (!req.typeUrl) {
    conn.fail(status.INVALID_ARGUMENT, 'DiscoveryRequest.type_url is required on an ADS stream');
    return;
  }
  const subscription = sotwSubscription(req.typeUrl, req.resourceNames);
  const { watch: w, first } = conn.watch(req.typeUrl);
  // The first request for a type (possibly carrying a nonce from an earlier stream) or one
  // without a nonce asks for the current state.
  if (first || req.responseNonce === '') {
    w.subscription = subscription;
    w.mustRespond = true;
    conn.poke(w);
    return;
  }
  const error = req.errorDetail
    ? clientText(req.errorDetail.message) || `code ${req.errorDetail.code}`
    : undefined;
  const outcome = acknowledge(w, req.responseNonce, error);
  if (outcome === 'stale') {
    conn.log.debug(
      { type: clientText(req.typeUrl), nonce: clientText(req.responseNonce) },
      'stale nonce ignored',
    );
    return;
  }
  if (outcome === 'nack') {
    conn.ctx.metrics.rejected(req.typeUrl);
    conn.log.warn(
      {
        type: clientText(req.typeUrl),
        nonce: clientText(req.responseNonce),
        version: clientText(req.versionInfo),
        error,
      },
      'xDS response rejected (NACK); the client keeps its last accepted config',
    );
  }
  if (!sameSubscription(subscription, w.subscription)) {
    w.subscription = subscription;
    w.mustRespond = true;
  }
  conn.poke(w);
  conn.releaseRemovals();
}

function build<S>(
  conn: Connection<S>,
  w: Watch,
  snapshot: Published<S>,
): DiscoveryResponse | undefined {
  const view = conn.resources(w, snapshot);
  if (!view) return undefined;
  const kept = retain(conn, w, view.versions);
  const versions = kept.size === 0 ? view.versions : withRetained(view.versions, kept);
  const content =
    view.all && kept.size === 0 ? sharedContentVersion(versions) : contentVersion(versions);
  // A NACKed response also set sentContent, so rejected content is not sent again unchanged.
  if (!w.mustRespond && content === w.sentContent) return undefined;
  w.sentContent = content;
  w.sentCount = versions.size;
  w.lastSent = view;
  const names = [...versions.keys()].sort();
  return create(DiscoveryResponseSchema, {
    versionInfo: snapshot.version,
    typeUrl: w.typeUrl,
    nonce: conn.ctx.nonce(),
    resources: names.map((n) => (kept.get(n)?.resource ?? view.resources.get(n)!.resource)!),
  });
}

/**
 * Make-before-break: a resource the client was last sent that is gone now stays in the response,
 * as it was sent, while its removal must wait (Connection.mayRemove). In state of the world a
 * missing resource is a removal, so leaving it out cannot wait.
 */
function retain<S>(
  conn: Connection<S>,
  w: Watch,
  versions: ReadonlyMap<string, string>,
): ReadonlyMap<string, RetainedResource> {
  const last = w.lastSent;
  if (!last || conn.ctx.removalsAfter(w.typeUrl).length === 0) return (w.retained = NONE_RETAINED);
  const gone: string[] = [];
  for (const names of [last.versions.keys(), w.retained.keys()])
    for (const n of names) if (!versions.has(n) && covers(w.subscription, n)) gone.push(n);
  if (gone.length === 0 || conn.mayRemove(w)) return (w.retained = NONE_RETAINED);
  const kept = new Map<string, RetainedResource>();
  for (const name of gone)
    kept.set(
      name,
      w.retained.get(name) ?? {
        version: last.versions.get(name)!,
        resource: last.resources.get(name)!.resource,
      },
    );
  return (w.retained = kept);
}

const NONE_RETAINED: ReadonlyMap<string, RetainedResource> = new Map();

function withRetained(
  versions: ReadonlyMap<string, string>,
  kept: ReadonlyMap<string, RetainedResource>,
): Map<string, string> {
  const all = new Map(versions);
  for (const [name, r] of kept) all.set(name, r.version);
  return all;
}

// Wildcard watches share the generated result's version map, so its content version is hashed once.
const contentVersions = new WeakMap<Versions, string>();
function sharedContentVersion(versions: Versions): string {
  let v = contentVersions.get(versions);
  if (v === undefined) contentVersions.set(versions, (v = contentVersion(versions)));
  return v;
}
