// Cluster -> ClusterConfig and ClusterLoadAssignment -> EndpointSet, with Envoy's defaults for
// connect timeout, circuit breakers and outlier detection. Discovery types other than EDS, STATIC
// and ORIGINAL_DST, health checks, subsets and TLS from SDS are refused. Pure.
import { isMessage } from '@bufbuild/protobuf';
import type { JsonObject } from '@bufbuild/protobuf';
import {
  Cluster_DiscoveryType as DiscoveryType,
  Cluster_LbPolicy as LbPolicyEnum,
  type Cluster,
} from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { OutlierDetection } from '@trellis/api/gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import type {
  DataSource,
  Metadata,
  TransportSocket,
} from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import {
  CertificateValidationContext_TrustChainVerification as TrustChain,
  SubjectAltNameMatcher_SanType as SanType,
} from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { UpstreamTlsContextSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { HealthStatus as XdsHealth } from '@trellis/api/gen/envoy/config/core/v3/health_check_pb.js';
import type { ClusterLoadAssignment } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { HttpProtocolOptionsSchema } from '@trellis/api/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import {
  DEFAULT_LIMITS,
  type ClusterConfig,
  type EndpointConfig,
  type EndpointSet,
  type HealthStatus,
  type LbPolicy,
  type DataRef,
  type OriginalDstHost,
  type UpstreamTls,
  type OutlierConfig,
  type UpstreamProtocol,
  type WorkloadLabels,
} from '../model/cluster.js';
import type { MetadataValue } from './metadata.js';
import { convert, durationMs, invalid, unpackTyped, type Converted } from './common.js';
import { percent } from './percent.js';
import { canonicalIp } from '@trellis/core';

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

export function convertCluster(c: Cluster): Converted<ClusterConfig> {
  return convert(() => cluster(c, `Cluster ${c.name}`));
}

export function convertEndpoints(cla: ClusterLoadAssignment): Converted<EndpointSet> {
  return convert(() => endpointSet(cla, `ClusterLoadAssignment ${cla.clusterName}`));
}

function lbPolicy(p: LbPolicyEnum, field: string): LbPolicy {
  switch (p) {
    case LbPolicyEnum.ROUND_ROBIN:
      return 'round-robin';
    case LbPolicyEnum.LEAST_REQUEST:
      return 'least-request';
    case LbPolicyEnum.RANDOM:
      return 'random';
    case LbPolicyEnum.RING_HASH:
      return 'ring-hash';
    case LbPolicyEnum.MAGLEV:
      return 'maglev';
    case LbPolicyEnum.CLUSTER_PROVIDED:
      return 'cluster-provided';
    default:
      invalid(field, `lb_policy ${LbPolicyEnum[p] ?? p} is not supported`);
  }
}

function cluster(c: Cluster, field: string): ClusterConfig {
  if (c.name === '') invalid(`${field}.name`, 'is empty');
  const d = c.clusterDiscoveryType;
  let edsName: string | undefined;
  let initialFetchTimeoutMs: number | undefined;
  let staticEndpoints: EndpointSet | undefined;
  const originalDst = d.case === 'type' && d.value === DiscoveryType.ORIGINAL_DST;
  if (originalDst) {
    if (c.lbPolicy !== LbPolicyEnum.CLUSTER_PROVIDED)
      invalid(`${field}.lb_policy`, 'an ORIGINAL_DST cluster needs CLUSTER_PROVIDED');
    if (c.loadAssignment)
      invalid(`${field}.load_assignment`, 'an ORIGINAL_DST cluster takes no endpoints');
  } else if (d.case === 'type' && d.value === DiscoveryType.EDS) {
    const src = c.edsClusterConfig?.edsConfig?.configSourceSpecifier.case;
    if (src !== undefined && src !== 'ads')
      invalid(`${field}.eds_cluster_config.eds_config`, `only ADS is supported (got ${src})`);
    edsName = c.edsClusterConfig?.serviceName || c.name;
    initialFetchTimeoutMs = durationMs(
      c.edsClusterConfig?.edsConfig?.initialFetchTimeout,
      `${field}.eds_cluster_config.eds_config.initial_fetch_timeout`,
    );
  } else if (d.case === 'type' && d.value === DiscoveryType.STATIC) {
    if (!c.loadAssignment) invalid(`${field}.load_assignment`, 'a STATIC cluster needs endpoints');
    staticEndpoints = endpointSet(c.loadAssignment, `${field}.load_assignment`);
  } else {
    invalid(
      field,
      `discovery type ${d.case === 'type' ? (DiscoveryType[d.value] ?? d.value) : String(d.case)} is not supported (EDS, STATIC, ORIGINAL_DST)`,
    );
  }
  if (c.healthChecks.length > 0)
    invalid(`${field}.health_checks`, 'active health checking is not supported');
  if (c.lbSubsetConfig) invalid(`${field}.lb_subset_config`, 'not supported');
  if (c.loadBalancingPolicy)
    invalid(`${field}.load_balancing_policy`, 'not supported (use lb_policy)');
  if (c.filters.length > 0)
    invalid(`${field}.filters`, 'upstream network filters are not supported');
  const ts = c.transportSocket;
  let tls: UpstreamTls | undefined;
  if (ts && ts.name === TLS_SOCKET) tls = upstreamTls(ts, `${field}.transport_socket`);
  else if (ts && ts.name !== 'envoy.transport_sockets.raw_buffer')
    invalid(
      `${field}.transport_socket`,
      `${ts.name} is not supported (${TLS_SOCKET} or raw_buffer; endpoints reached over HBONE are marked in their metadata)`,
    );

  const lb = lbPolicy(c.lbPolicy, `${field}.lb_policy`);
  if (lb === 'cluster-provided' && !originalDst)
    invalid(`${field}.lb_policy`, 'CLUSTER_PROVIDED is for ORIGINAL_DST clusters only');
  let leastRequestChoices = 2;
  let ringSize = { min: 1024, max: 8 * 1024 * 1024 };
  const lbc = c.lbConfig;
  if (lbc.case === 'leastRequestLbConfig') leastRequestChoices = lbc.value.choiceCount ?? 2;
  else if (lbc.case === 'ringHashLbConfig') {
    ringSize = {
      min: Number(lbc.value.minimumRingSize ?? 1024n),
      max: Number(lbc.value.maximumRingSize ?? 8n * 1024n * 1024n),
    };
  }
  if (leastRequestChoices < 2)
    invalid(`${field}.least_request_lb_config.choice_count`, 'must be at least 2');

  let limits = DEFAULT_LIMITS;
  for (const t of c.circuitBreakers?.thresholds ?? []) {
    if (t.priority !== 0) continue;
    limits = {
      maxConnections: t.maxConnections ?? DEFAULT_LIMITS.maxConnections,
      maxPendingRequests: t.maxPendingRequests ?? DEFAULT_LIMITS.maxPendingRequests,
      maxRequests: t.maxRequests ?? DEFAULT_LIMITS.maxRequests,
      maxRetries: t.maxRetries ?? DEFAULT_LIMITS.maxRetries,
    };
  }

  let protocol: UpstreamProtocol = c.http2ProtocolOptions ? 'http2' : 'http1';
  let idleTimeoutMs =
    durationMs(
      c.commonHttpProtocolOptions?.idleTimeout,
      `${field}.common_http_protocol_options.idle_timeout`,
    ) ?? 3_600_000;
  let maxRequestsPerConnection =
    c.maxRequestsPerConnection ?? c.commonHttpProtocolOptions?.maxRequestsPerConnection ?? 0;
  for (const [key, any] of Object.entries(c.typedExtensionProtocolOptions)) {
    const f = `${field}.typed_extension_protocol_options[${key}]`;
    const m = unpackTyped(any, f);
    if (!isMessage(m, HttpProtocolOptionsSchema)) {
      if (key === HTTP_OPTIONS) invalid(f, `expected ${HTTP_OPTIONS}, got ${m.$typeName}`);
      continue;
    }
    const u = m.upstreamProtocolOptions;
    if (u.case === 'explicitHttpConfig') {
      const p = u.value.protocolConfig.case;
      if (p === 'http2ProtocolOptions') protocol = 'http2';
      else if (p === 'httpProtocolOptions') protocol = 'http1';
      else invalid(`${f}.explicit_http_config`, `${String(p)} is not supported`);
    } else if (u.case === 'useDownstreamProtocolConfig') {
      protocol = 'downstream';
    } else if (u.case === 'autoConfig') {
      invalid(`${f}.auto_config`, 'ALPN-based protocol selection is not supported');
    }
    if (m.httpFilters.length > 0)
      invalid(`${f}.http_filters`, 'upstream HTTP filters are not supported');
    const common = m.commonHttpProtocolOptions;
    if (common) {
      idleTimeoutMs =
        durationMs(common.idleTimeout, `${f}.common_http_protocol_options.idle_timeout`) ??
        idleTimeoutMs;
      maxRequestsPerConnection = common.maxRequestsPerConnection ?? maxRequestsPerConnection;
    }
  }
  const outlier = c.outlierDetection
    ? outlierConfig(c.outlierDetection, `${field}.outlier_detection`)
    : undefined;
  const metadata = metadataMap(c.metadata);
  return {
    name: c.name,
    ...(edsName !== undefined ? { edsName } : {}),
    ...(initialFetchTimeoutMs ? { initialFetchTimeoutMs } : {}),
    ...(staticEndpoints ? { staticEndpoints } : {}),
    connectTimeoutMs: durationMs(c.connectTimeout, `${field}.connect_timeout`) ?? 5_000,
    lbPolicy: lb,
    leastRequestChoices,
    ringSize,
    limits,
    ...(outlier ? { outlier } : {}),
    protocol,
    idleTimeoutMs,
    maxRequestsPerConnection,
    panicThreshold: percent(c.commonLbConfig?.healthyPanicThreshold, 0.5),
    metadata,
    ...(tls ? { tls } : {}),
    ...(originalDst
      ? { originalDst: originalDstTable(metadata, `${field}.metadata.trellis.original_dst`) }
      : {}),
  };
}

/**
 * `trellis.original_dst` of an ORIGINAL_DST cluster: `{"<ip>": {tunnel: "hbone", identity,
 * workload}}`, how each destination IP is reached. Without it, any destination by plain TCP.
 */
function originalDstTable(
  md: Map<string, Record<string, MetadataValue>>,
  field: string,
): { hosts?: Map<string, OriginalDstHost> } {
  const table = md.get('trellis')?.['original_dst'];
  if (table === undefined) return {};
  if (typeof table !== 'object' || table === null || Array.isArray(table))
    invalid(field, 'must be a struct of IP -> {tunnel, identity, workload}');
  const hosts = new Map<string, OriginalDstHost>();
  for (const [ip, v] of Object.entries(table)) {
    const f = `${field}[${ip}]`;
    const key = canonicalIp(ip);
    if (key === undefined) invalid(f, 'the key is not an IP address');
    if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(f, 'must be a struct');
    const e = v as Record<string, MetadataValue>;
    const hbone = e['tunnel'] === 'hbone';
    const identity = typeof e['identity'] === 'string' ? e['identity'] : undefined;
    if (hbone && identity === undefined) invalid(f, 'an HBONE destination needs its identity');
    const workload = typeof e['workload'] === 'string' ? workloadLabels(e['workload']) : undefined;
    hosts.set(key, {
      hbone,
      ...(identity !== undefined ? { identity } : {}),
      ...(workload ? { workload } : {}),
    });
  }
  return { hosts };
}

const TLS_SOCKET = 'envoy.transport_sockets.tls';

/** UpstreamTlsContext: SNI, trusted CA, client certificate, SAN matchers, ALPN; no SDS. */
function upstreamTls(ts: TransportSocket, field: string): UpstreamTls {
  if (ts.configType.case !== 'typedConfig')
    invalid(field, `${TLS_SOCKET} needs a typed_config (UpstreamTlsContext)`);
  const ctx = unpackTyped(ts.configType.value, `${field}.typed_config`);
  if (!isMessage(ctx, UpstreamTlsContextSchema))
    invalid(`${field}.typed_config`, `expected UpstreamTlsContext, got ${ctx.$typeName}`);
  const common = ctx.commonTlsContext;
  const f = `${field}.typed_config.common_tls_context`;
  if (common?.tlsCertificateSdsSecretConfigs.length)
    invalid(`${f}.tls_certificate_sds_secret_configs`, 'SDS is not supported');
  if (common && common.tlsCertificates.length > 1)
    invalid(`${f}.tls_certificates`, 'at most one client certificate is supported');
  const v = common?.validationContextType;
  if (v && v.case !== undefined && v.case !== 'validationContext')
    invalid(`${f}.${v.case}`, 'only an inline validation_context is supported (no SDS)');
  const vc = v?.case === 'validationContext' ? v.value : undefined;
  const cert = common?.tlsCertificates[0];
  const sans = (vc?.matchTypedSubjectAltNames ?? []).map((m, i): UpstreamTls['sans'][number] => {
    const g = `${f}.validation_context.match_typed_subject_alt_names[${i}]`;
    const type = m.sanType === SanType.DNS ? 'dns' : m.sanType === SanType.URI ? 'uri' : undefined;
    if (!type) invalid(`${g}.san_type`, 'only DNS and URI are supported');
    if (m.matcher?.matchPattern.case !== 'exact')
      invalid(`${g}.matcher`, 'only exact is supported');
    return { type, value: m.matcher.matchPattern.value };
  });
  const ca = dataRef(vc?.trustedCa, `${f}.validation_context.trusted_ca`);
  const certChain = dataRef(cert?.certificateChain, `${f}.tls_certificates[0].certificate_chain`);
  const key = dataRef(cert?.privateKey, `${f}.tls_certificates[0].private_key`);
  if ((certChain === undefined) !== (key === undefined))
    invalid(`${f}.tls_certificates[0]`, 'needs both certificate_chain and private_key');
  return {
    ...(ctx.sni ? { sni: ctx.sni } : {}),
    ...(ca ? { ca } : {}),
    ...(certChain ? { cert: certChain } : {}),
    ...(key ? { key } : {}),
    sans,
    skipVerify: vc?.trustChainVerification === TrustChain.ACCEPT_UNTRUSTED,
    alpn: [...(common?.alpnProtocols ?? [])],
  };
}

function dataRef(d: DataSource | undefined, field: string): DataRef | undefined {
  const s = d?.specifier;
  if (!s || s.case === undefined) return undefined;
  if (s.case === 'filename') return { file: s.value };
  if (s.case === 'inlineString') return { pem: s.value };
  if (s.case === 'inlineBytes') return { pem: Buffer.from(s.value).toString('utf8') };
  invalid(field, `${s.case} is not supported (filename, inline_string, inline_bytes)`);
}

function pct(v: number | undefined, dflt: number): number {
  return Math.max(0, Math.min(100, v ?? dflt)) / 100;
}

function outlierConfig(o: OutlierDetection, field: string): OutlierConfig {
  if (o.monitors.length > 0) invalid(`${field}.monitors`, 'not supported');
  const base = durationMs(o.baseEjectionTime, `${field}.base_ejection_time`) ?? 30_000;
  return {
    intervalMs: durationMs(o.interval, `${field}.interval`) ?? 10_000,
    baseEjectionMs: base,
    maxEjectionMs: Math.max(
      base,
      durationMs(o.maxEjectionTime, `${field}.max_ejection_time`) ?? 300_000,
    ),
    maxEjectionPercent: pct(o.maxEjectionPercent, 10),
    consecutive5xx: o.consecutive5xx ?? 5,
    enforcingConsecutive5xx: pct(o.enforcingConsecutive5xx, 100),
    consecutiveGatewayFailure: o.consecutiveGatewayFailure ?? 5,
    enforcingConsecutiveGatewayFailure: pct(o.enforcingConsecutiveGatewayFailure, 0),
    splitLocalOrigin: o.splitExternalLocalOriginErrors,
    consecutiveLocalOriginFailure: o.consecutiveLocalOriginFailure ?? 5,
    enforcingConsecutiveLocalOriginFailure: pct(o.enforcingConsecutiveLocalOriginFailure, 100),
    enforcingSuccessRate: pct(o.enforcingSuccessRate, 100),
    successRateMinimumHosts: o.successRateMinimumHosts ?? 5,
    successRateRequestVolume: o.successRateRequestVolume ?? 100,
    successRateStdevFactor: (o.successRateStdevFactor ?? 1900) / 1000,
    failurePercentageThreshold: pct(o.failurePercentageThreshold, 85),
    enforcingFailurePercentage: pct(o.enforcingFailurePercentage, 0),
    failurePercentageMinimumHosts: o.failurePercentageMinimumHosts ?? 5,
    failurePercentageRequestVolume: o.failurePercentageRequestVolume ?? 50,
  };
}

function metadataMap(m: Metadata | undefined): Map<string, Record<string, MetadataValue>> {
  const out = new Map<string, Record<string, MetadataValue>>();
  if (!m) return out;
  for (const [k, v] of Object.entries(m.filterMetadata))
    out.set(k, v as JsonObject as Record<string, MetadataValue>);
  return out;
}

function health(h: XdsHealth): HealthStatus {
  switch (h) {
    case XdsHealth.UNKNOWN:
    case XdsHealth.HEALTHY:
      return 'healthy';
    case XdsHealth.DRAINING:
      return 'draining';
    case XdsHealth.DEGRADED:
      return 'degraded';
    default:
      return 'unhealthy';
  }
}

/** Istio's endpoint workload metadata: "name;namespace;canonical-service;revision;cluster". */
function istioWorkload(md: Map<string, Record<string, MetadataValue>>): WorkloadLabels | undefined {
  const w = md.get('istio')?.['workload'];
  return typeof w === 'string' ? workloadLabels(w) : undefined;
}

function workloadLabels(w: string): WorkloadLabels {
  const [name = '', namespace = '', canonicalService = '', canonicalRevision = '', cluster = ''] =
    w.split(';');
  return { name, namespace, canonicalService, canonicalRevision, cluster };
}

function endpointSet(cla: ClusterLoadAssignment, field: string): EndpointSet {
  if (Object.keys(cla.namedEndpoints).length > 0)
    invalid(`${field}.named_endpoints`, 'not supported');
  const endpoints: EndpointConfig[] = [];
  for (const [i, loc] of cla.endpoints.entries()) {
    const lf = `${field}.endpoints[${i}]`;
    if (loc.lbConfig.case === 'ledsClusterLocalityConfig')
      invalid(`${lf}.leds_cluster_locality_config`, 'LEDS is not supported');
    const l = loc.locality;
    const locality = l ? [l.region, l.zone, l.subZone].join('/') : '';
    for (const [j, lbe] of loc.lbEndpoints.entries()) {
      const f = `${lf}.lb_endpoints[${j}]`;
      if (lbe.hostIdentifier.case !== 'endpoint') invalid(f, 'endpoint is required');
      const addr = lbe.hostIdentifier.value.address?.address;
      if (addr?.case !== 'socketAddress')
        invalid(`${f}.endpoint.address`, 'a socket address is required');
      const pv = addr.value.portSpecifier;
      if (pv.case !== 'portValue' || pv.value === 0 || pv.value > 65535)
        invalid(`${f}.endpoint.address.port_value`, 'a port in 1..65535 is required');
      const md = metadataMap(lbe.metadata);
      const tsm = md.get('envoy.transport_socket_match');
      const trellis = md.get('trellis');
      const identity = typeof trellis?.['identity'] === 'string' ? trellis['identity'] : undefined;
      const hbone = tsm?.['tunnel'] === 'hbone';
      if (hbone && identity === undefined)
        invalid(`${f}.metadata`, 'an HBONE endpoint needs its identity (trellis.identity)');
      const workload = istioWorkload(md);
      endpoints.push({
        address: addr.value.address,
        port: pv.value,
        weight: lbe.loadBalancingWeight ?? 1,
        health: health(lbe.healthStatus),
        priority: loc.priority,
        locality,
        hbone,
        ...(identity !== undefined ? { identity } : {}),
        ...(workload ? { workload } : {}),
        metadata: md,
      });
    }
  }
  return { clusterName: cla.clusterName, endpoints };
}
