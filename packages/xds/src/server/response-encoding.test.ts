// Responses serialized with per-resource cached bytes decode to the same messages, also when a
// cached resource object is reused in later responses and when names or versions change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ClusterSchema } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { cluster } from '../test-support/resources.js';
import {
  serializeDeltaResponse,
  serializeSotwResponse,
  wireResource,
} from './response-encoding.js';

test('delta and SotW responses with cached resource bytes decode to the messages written', () => {
  // A resource larger than 127 bytes needs a two-byte length.
  const big = cluster('big-'.repeat(60));
  const a = cluster('a');
  const first = create(DeltaDiscoveryResponseSchema, {
    systemVersionInfo: '7',
    typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    nonce: 'n1',
    removedResources: ['gone'],
    resources: [wireResource('a', 'v1', a), wireResource('big', 'v1', big)],
  });
  const decoded = fromBinary(DeltaDiscoveryResponseSchema, serializeDeltaResponse(first));
  assert.ok(equals(DeltaDiscoveryResponseSchema, decoded, first));
  assert.equal(decoded.resources[1]!.resource!.value.length > 127, true);

  // The same resource object under another version is a new Resource with its own bytes.
  assert.equal(
    wireResource('a', 'v1', a),
    first.resources[0],
    'reused while name and version stay',
  );
  const second = create(DeltaDiscoveryResponseSchema, {
    nonce: 'n2',
    resources: [wireResource('a', 'v2', a), wireResource('big', 'v1', big)],
  });
  const again = fromBinary(DeltaDiscoveryResponseSchema, serializeDeltaResponse(second));
  assert.deepEqual(
    again.resources.map((r) => [r.name, r.version]),
    [
      ['a', 'v2'],
      ['big', 'v1'],
    ],
  );
  assert.equal(again.nonce, 'n2');

  const sotw = create(DiscoveryResponseSchema, {
    versionInfo: '3',
    typeUrl: 'x',
    nonce: 'n3',
    resources: [a, big, a],
  });
  const bytes = serializeSotwResponse(sotw);
  assert.ok(equals(DiscoveryResponseSchema, fromBinary(DiscoveryResponseSchema, bytes), sotw));
  assert.equal(
    bytes.length,
    toBinary(DiscoveryResponseSchema, sotw).length,
    'same size as a plain encoding',
  );
  assert.equal(
    fromBinary(ClusterSchema, fromBinary(DiscoveryResponseSchema, bytes).resources[1]!.value).name,
    'big-'.repeat(60),
  );
});
