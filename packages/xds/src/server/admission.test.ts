// admittingHandlers: a stream is served only once `admit` accepts the node of its first request;
// a refusal ends it with the status and details `admit` chose, before anything is sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { CLUSTER_TYPE_URL } from '@trellis/api';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { harness, ZTUNNEL_NODE } from '../test-support/harness.js';
import { serveAds } from '../test-support/loopback.js';
import { rawDelta, rawSotw } from '../test-support/raw-stream.js';
import { snapshot } from '../test-support/resources.js';

test('admittingHandlers refuses a node before serving it and serves the others', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
  const seen: string[] = [];
  const guarded = await serveAds({
    handlers: h.xds.admittingHandlers((proxy) => {
      seen.push(proxy.id);
      return proxy.istio?.namespace === 'istio-system'
        ? undefined
        : {
            code: status.PERMISSION_DENIED,
            details: `namespace ${proxy.istio?.namespace} is not allowed`,
          };
    }),
  });
  t.after(() => guarded.kill());
  const other = 'ztunnel~10.0.0.6~z.prod~prod.svc.cluster.local';

  const refused = rawDelta(guarded.address);
  t.after(() => refused.end());
  refused.send(
    create(DeltaDiscoveryRequestSchema, {
      node: { id: other },
      typeUrl: CLUSTER_TYPE_URL,
      resourceNamesSubscribe: ['*'],
    }),
  );
  assert.deepEqual(await refused.status.then((s) => [s.code, s.details]), [
    status.PERMISSION_DENIED,
    'namespace prod is not allowed',
  ]);
  assert.equal(refused.received.length, 0);

  const refusedSotw = rawSotw(guarded.address);
  t.after(() => refusedSotw.end());
  refusedSotw.send(
    create(DiscoveryRequestSchema, { node: { id: other }, typeUrl: CLUSTER_TYPE_URL }),
  );
  assert.equal((await refusedSotw.status).code, status.PERMISSION_DENIED);

  const admitted = rawDelta(guarded.address);
  t.after(() => admitted.end());
  admitted.send(
    create(DeltaDiscoveryRequestSchema, {
      node: { id: ZTUNNEL_NODE },
      typeUrl: CLUSTER_TYPE_URL,
      resourceNamesSubscribe: ['*'],
    }),
  );
  assert.deepEqual(
    (await admitted.next()).resources.map((r) => r.name),
    ['a'],
  );

  assert.deepEqual(seen, [other, other, ZTUNNEL_NODE], 'asked once per stream');
  assert.deepEqual(
    h.xds.debug().map((c) => c.proxyId),
    [ZTUNNEL_NODE],
    'refused streams were never registered',
  );
});
