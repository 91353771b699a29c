// Test support: the Proxy the xDS server hands generators, for a node id and its metadata.
import { create, type JsonObject } from '@bufbuild/protobuf';
import { NodeSchema } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import { parseIstioNodeId, type Proxy } from '@trellis/xds';

export function testProxy(id: string, metadata: JsonObject = {}): Proxy {
  return {
    connectionId: `${id}-1`,
    id,
    node: create(NodeSchema, { id }),
    metadata,
    peer: '127.0.0.1:1',
    istio: parseIstioNodeId(id),
  };
}
