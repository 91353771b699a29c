// Envoy resources as stable YAML (protobuf JSON keyed by name, name order; Any fields expanded):
// the golden-file format, and what an offline translate command can print.
import { toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { apiRegistry } from '@trellis/api';
import { ClusterSchema } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { SecretSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { stringify } from 'yaml';
import type { EnvoyResources } from './resources.js';

export type EnvoyKind = 'listeners' | 'routes' | 'clusters' | 'endpoints' | 'secrets';

export function envoyResourcesToYaml(resources: EnvoyResources, kind: EnvoyKind): string {
  switch (kind) {
    case 'listeners':
      return toYaml(ListenerSchema, resources.listeners);
    case 'routes':
      return toYaml(RouteConfigurationSchema, resources.routes);
    case 'clusters':
      return toYaml(ClusterSchema, resources.clusters);
    case 'endpoints':
      return toYaml(ClusterLoadAssignmentSchema, resources.endpoints);
    case 'secrets':
      return toYaml(SecretSchema, resources.secrets ?? new Map());
  }
}

function toYaml<Desc extends DescMessage>(
  schema: Desc,
  messages: ReadonlyMap<string, MessageShape<Desc>>,
): string {
  if (messages.size === 0) return '{}\n';
  const doc: Record<string, unknown> = {};
  for (const [name, m] of messages) doc[name] = toJson(schema, m, { registry: apiRegistry });
  return stringify(doc, { lineWidth: 0 });
}
