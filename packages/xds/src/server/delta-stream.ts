// DeltaAggregatedResources: the incremental protocol on one stream. The server tracks which
// version of each resource the client holds (seeded from initial_resource_versions on the first
// request of a type) and sends only what changed, plus removed_resources for names that are gone.
// Subscription changes are applied even when they ride on a stale nonce.
import { create } from '@bufbuild/protobuf';
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  DeltaDiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { applyDelta, covers, WILDCARD } from '../subscription.js';
import {
  Connection,
  type NodeAdmission,
  type Published,
  type ServerContext,
} from './connection.js';
import { deltaDiff, deltaDiffSince } from './delta-diff.js';
import { wireResource } from './response-encoding.js';
import { acknowledge, type Watch } from './watch.js';
import { clientText } from './client-text.js';

export function serveDelta<S>(
  call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>,
  ctx: ServerContext<S>,
  admit?: NodeAdmission,
): Connection<S> {
  const conn = new Connection<S>(
    'delta',
    call as ServerDuplexStream<unknown, unknown>,
    ctx,
    build,
    admit,
  );
  call.on('data', (req: DeltaDiscoveryRequest) => onRequest(conn, req));
  return conn;
}

function onRequest<S>(conn: Connection<S>, req: DeltaDiscoveryRequest): void {
  if (!conn.identify(req.node)) return;
  if (!req.typeUrl) {
    conn.fail(
      status.INVALID_ARGUMENT,
      'DeltaDiscoveryRequest.type_url is required on an ADS stream',
    );
    return;
  }
  const { watch: w, first } = conn.watch(req.typeUrl);
  if (first) {
    for (const [name, version] of Object.entries(req.initialResourceVersions)) {
      w.known.set(name, version);
    }
  } else if (req.responseNonce !== '') {
    const error = req.errorDetail
      ? clientText(req.errorDetail.message) || `code ${req.errorDetail.code}`
      : undefined;
    const outcome = acknowledge(w, req.responseNonce, error);
    if (outcome === 'nack') {
      conn.ctx.metrics.rejected(req.typeUrl);
      conn.log.warn(
        { type: clientText(req.typeUrl), nonce: clientText(req.responseNonce), error },
        'xDS response rejected (NACK); the client keeps its last accepted config',
      );
    } else if (outcome === 'stale') {
      conn.log.debug(
        { type: clientText(req.typeUrl), nonce: clientText(req.responseNonce) },
        'stale nonce',
      );
    }
  }

  const subscribe = req.resourceNamesSubscribe;
  const unsubscribe = req.resourceNamesUnsubscribe;
  // A plain ACK/NACK changes no subscription and costs nothing per held resource.
  if (first || subscribe.length > 0 || unsubscribe.length > 0)
    w.subscription = applyDelta(w.subscription, req.typeUrl, subscribe, unsubscribe, first);
  for (const name of subscribe) {
    // On the first request, names the client already holds (initial_resource_versions) are not
    // resent; later, a (re)subscribed name is always answered.
    if (name !== WILDCARD && !(first && w.known.has(name))) w.newlySubscribed.add(name);
  }
  // The client forgets what it unsubscribed from; so does the server. Only an unsubscription (or
  // the first request's initial_resource_versions) can leave a held name uncovered.
  if (first || unsubscribe.length > 0) {
    for (const name of [...w.known.keys(), ...w.newlySubscribed]) {
      if (!covers(w.subscription, name)) {
        w.known.delete(name);
        w.newlySubscribed.delete(name);
      }
    }
  }
  // What the client holds no longer mirrors the last full map sent: diff in full next time.
  if (first || subscribe.length > 0 || unsubscribe.length > 0) w.knownFrom = undefined;
  if (first || subscribe.length > 0) w.mustRespond = true;
  conn.poke(w);
  conn.releaseRemovals();
}

function build<S>(
  conn: Connection<S>,
  w: Watch,
  snapshot: Published<S>,
): DeltaDiscoveryResponse | undefined {
  const view = conn.resources(w, snapshot);
  if (!view) return undefined;
  const desired = view.versions;
  // A wildcard watch that was last sent a full map is diffed by the names changed since then
  // (computed once for all streams); otherwise, e.g. after a reconnect or a subscription
  // change, against everything it holds.
  const diff =
    view.all && w.knownFrom && w.newlySubscribed.size === 0
      ? deltaDiffSince(w.known, w.knownFrom, desired)
      : deltaDiff(w.known, desired, w.newlySubscribed);
  const removed = retain(conn, w, diff.removed);
  w.newlySubscribed.clear();
  // Held removals stay in `known`; the next response diffs in full to find them.
  w.knownFrom = view.all && w.retained.size === 0 ? desired : undefined;
  if (!w.mustRespond && diff.updated.length === 0 && removed.length === 0) return undefined;
  // What is sent counts as held, even if the client NACKs it: rejected content is not resent
  // until it changes.
  for (const name of diff.updated) w.known.set(name, desired.get(name)!);
  for (const name of removed) w.known.delete(name);
  return create(DeltaDiscoveryResponseSchema, {
    systemVersionInfo: snapshot.version,
    typeUrl: w.typeUrl,
    nonce: conn.ctx.nonce(),
    resources: diff.updated.map((name) =>
      wireResource(name, desired.get(name)!, view.resources.get(name)!.resource),
    ),
    removedResources: [...removed],
  });
}

/**
 * Make-before-break: the removals of names the client holds wait while Connection.mayRemove says
 * so (they stay in `known` and out of removed_resources); a subscribed name that never existed is
 * answered removed at once. Returns the removals to send now.
 */
function retain<S>(conn: Connection<S>, w: Watch, removed: readonly string[]): readonly string[] {
  // Types without a rule (the WDS types of every ztunnel) pay nothing per removal.
  if (conn.ctx.removalsAfter(w.typeUrl).length === 0) return removed;
  const held = removed.filter((n) => w.known.has(n) && !w.newlySubscribed.has(n));
  if (held.length === 0 || conn.mayRemove(w)) {
    if (w.retained.size > 0) w.retained = new Map();
    return removed;
  }
  w.retained = new Map(held.map((n) => [n, { version: w.known.get(n)!, resource: undefined }]));
  return removed.filter((n) => !w.retained.has(n));
}
