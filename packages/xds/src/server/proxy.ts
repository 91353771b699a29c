// Who is on the other end of a stream: built from the first request's node. Pure.
import type { JsonObject } from '@bufbuild/protobuf';
import type { Node } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import type { IstioNodeId, Proxy } from './types.js';

/** Parses "<type>~<ip>~<id>~<domain>"; undefined for any other shape. */
export function parseIstioNodeId(nodeId: string): IstioNodeId | undefined {
  const parts = nodeId.split('~');
  if (parts.length !== 4 || parts.some((p) => p === '')) return undefined;
  const [type, ip, id, domain] = parts as [string, string, string, string];
  const namespace = domain.split('.')[0] ?? '';
  const suffix = `.${namespace}`;
  const podName = id.endsWith(suffix) ? id.slice(0, -suffix.length) : id;
  return { type, ip, id, domain, namespace, podName };
}

export function proxyFromNode(node: Node, peer: string, connectionId: string): Proxy {
  return {
    connectionId,
    id: node.id,
    node,
    metadata: node.metadata ?? ({} as JsonObject),
    peer,
    istio: parseIstioNodeId(node.id),
  };
}
