// A Cluster as /config_dump shows it: the private key of an inline client certificate in its
// UpstreamTlsContext (a Gateway's spec.tls.backend certificate, sent inline in CDS) replaced by
// "[redacted]", as secrets are (secret.ts). Pure.
import { clone, create, isMessage } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { packAny } from '@trellis/api';
import {
  ClusterSchema,
  type Cluster,
} from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { DataSourceSchema } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import { UpstreamTlsContextSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';

export function redactCluster(c: Cluster): Cluster {
  const ts = c.transportSocket;
  if (ts?.configType.case !== 'typedConfig') return c;
  const ctx = anyUnpack(ts.configType.value, UpstreamTlsContextSchema);
  if (!ctx || !isMessage(ctx, UpstreamTlsContextSchema)) return c;
  const certs = ctx.commonTlsContext?.tlsCertificates ?? [];
  if (!certs.some((t) => t.privateKey)) return c;
  for (const t of certs)
    if (t.privateKey)
      t.privateKey = create(DataSourceSchema, {
        specifier: { case: 'inlineString', value: '[redacted]' },
      });
  const out = clone(ClusterSchema, c);
  out.transportSocket!.configType = {
    case: 'typedConfig',
    value: packAny(UpstreamTlsContextSchema, ctx),
  };
  return out;
}
