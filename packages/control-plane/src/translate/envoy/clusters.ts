// CDS: one EDS cluster per service port, fetched over ADS, round robin (what proxyless gRPC accepts).
import { create } from '@bufbuild/protobuf';
import {
  Cluster_DiscoveryType,
  Cluster_EdsClusterConfigSchema,
  Cluster_LbPolicy,
  ClusterSchema,
  type Cluster,
} from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { Http2ProtocolOptionsSchema } from '@trellis/api/gen/envoy/config/core/v3/protocol_pb.js';
import type { ServicePortInfo } from '../../model/service-info.js';
import { adsConfigSource } from './common.js';
import { durationFromMs } from './duration.js';

/** Istio's default connect timeout. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface ClusterOptions {
  /** Speak HTTP/2 upstream (for an Envoy waypoint in front of gRPC / HTTP/2 ports). */
  readonly http2: boolean;
}

export function edsCluster(name: string, options: ClusterOptions): Cluster {
  const cluster = create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: create(Cluster_EdsClusterConfigSchema, {
      edsConfig: adsConfigSource(),
      serviceName: name,
    }),
    connectTimeout: durationFromMs(CONNECT_TIMEOUT_MS),
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
  });
  if (options.http2) cluster.http2ProtocolOptions = create(Http2ProtocolOptionsSchema);
  return cluster;
}

/** gRPC and HTTP/2 ports need HTTP/2 upstream; everything else lets the waypoint keep HTTP/1.1. */
export function speaksHttp2(port: ServicePortInfo): boolean {
  return port.appProtocol === 'GRPC' || port.appProtocol === 'HTTP2';
}
