// trellis-waypoint settings: every flag and environment variable (the names the control plane's
// waypoint Deployment sets, Istio's where Istio has one), its default and description, parsed once.
// The only module that names process-level configuration.
import {
  checkLogLevel,
  custom,
  ipAddress,
  defineSettings,
  duration,
  hostPort,
  loadSettings,
  oneOf,
  string,
  bool,
  type SettingsSource,
} from '@trellis/core';
import { CA_CLIENT_SETTINGS } from '@trellis/ca/client';
import { parseTrustDomain } from '@trellis/pki';

export const PROGRAM = 'trellis-waypoint';
export const SUMMARY =
  'The L7 proxy of the Trellis ambient mesh: terminates HBONE from ztunnels, routes HTTP/1.1, HTTP/2 and gRPC ' +
  'with the Envoy xDS configuration the control plane serves (routes, retries, timeouts, L7 policy, JWT), ' +
  'and forwards over HBONE with its own identity. With --role gateway the same engine is the ingress ' +
  'gateway: it listens on the ports of its Gateway (plain HTTP, TLS termination with SDS certificates ' +
  'chosen by SNI, TLS passthrough, TCP) and sends requests into the mesh over HBONE.';

const addr = hostPort();

function parsePercent(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new Error('not a percentage in 0..100');
  return n;
}

export const waypointSettings = defineSettings({
  role: {
    flag: '--role',
    env: 'PROXY_ROLE',
    default: 'waypoint' as 'waypoint' | 'gateway',
    parser: oneOf(['waypoint', 'gateway'] as const),
    description:
      'waypoint: HBONE from ztunnels on --hbone-address (xDS node waypoint~...); gateway: the ingress gateway, ' +
      "listening on the ports of the control plane's Listeners (xDS node router~..., metrics reporter=source)",
  },
  xdsAddress: {
    flag: '--xds-address',
    env: 'XDS_ADDRESS',
    default: addr.parse('istiod.istio-system.svc:15012'),
    parser: addr,
    description: 'Control plane address for Envoy xDS (ADS)',
  },
  xdsProtocol: {
    flag: '--xds-protocol',
    env: 'XDS_PROTOCOL',
    default: 'delta' as 'delta' | 'sotw',
    parser: oneOf(['delta', 'sotw'] as const),
    description: 'delta: incremental ADS; sotw: state-of-the-world ADS',
  },
  xdsPlaintext: {
    flag: '--xds-plaintext',
    env: 'XDS_PLAINTEXT',
    default: false,
    parser: bool(),
    description:
      "Speak xDS without TLS or token (the control plane's local 15010 port; tests only)",
  },
  ...CA_CLIENT_SETTINGS,
  trustDomain: {
    flag: '--trust-domain',
    env: 'TRUST_DOMAIN',
    default: 'cluster.local',
    parser: custom('a SPIFFE trust domain such as cluster.local', parseTrustDomain),
    description: 'SPIFFE trust domain of workload identities',
  },
  clusterId: {
    flag: '--cluster-id',
    env: 'CLUSTER_ID',
    default: 'Kubernetes',
    parser: string(),
    description: 'Cluster name, sent to the CA',
  },
  domainSuffix: {
    flag: '--domain-suffix',
    env: 'DOMAIN_SUFFIX',
    default: 'cluster.local',
    parser: string(),
    description: 'DNS domain of the cluster (part of the xDS node id)',
  },
  gatewayName: {
    flag: '--gateway-name',
    env: 'GATEWAY_NAME',
    default: 'waypoint',
    parser: string(),
    description:
      'The waypoint Gateway this proxy serves (sent to the control plane as the pod label gateway.networking.k8s.io/gateway-name)',
  },
  workloadName: {
    flag: '--workload-name',
    env: 'ISTIO_META_WORKLOAD_NAME',
    default: '',
    parser: string(),
    description:
      "This pod's workload (Deployment) name: the source_workload label of a gateway's metrics (default: --gateway-name)",
  },
  podName: {
    flag: '--pod-name',
    env: 'POD_NAME',
    default: 'waypoint',
    parser: string(),
    description: "This pod's name (part of the xDS node id)",
  },
  podNamespace: {
    flag: '--pod-namespace',
    env: 'POD_NAMESPACE',
    default: 'default',
    parser: string(),
    description:
      "This pod's namespace (node id, and with --service-account the waypoint's identity)",
  },
  podIp: {
    flag: '--pod-ip',
    env: 'INSTANCE_IP',
    default: '127.0.0.1',
    parser: ipAddress(),
    description: "This pod's IP (part of the xDS node id)",
  },
  serviceAccount: {
    flag: '--service-account',
    env: 'SERVICE_ACCOUNT',
    default: 'waypoint',
    parser: string(),
    description:
      "This pod's service account: the waypoint presents and uses spiffe://<trust-domain>/ns/<ns>/sa/<sa>",
  },
  hboneAddress: {
    flag: '--hbone-address',
    env: 'HBONE_ADDRESS',
    default: addr.parse(':15008'),
    parser: addr,
    description:
      'HBONE listener (mutual TLS, HTTP/2 CONNECT) that ztunnels and other waypoints send traffic to (waypoint role)',
  },
  hbonePort: {
    flag: '--hbone-port',
    env: 'HBONE_PORT',
    default: 15008,
    parser: custom('a port', (s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error('not a port in 1..65535');
      return n;
    }),
    description: "Port of the destinations' HBONE servers (ztunnels) the waypoint forwards to",
  },
  listenerHost: {
    flag: '--listener-host',
    env: 'LISTENER_HOST',
    default: '',
    parser: string(),
    description:
      "Gateway role: host every Listener binds instead of the Listener's own address (empty: the Listener's, 0.0.0.0 from the control plane)",
  },
  adminAddress: {
    flag: '--admin-address',
    env: 'ADMIN_ADDRESS',
    default: addr.parse('127.0.0.1:15000'),
    parser: addr,
    description:
      'Admin HTTP server: /config_dump, /clusters, /logging, /quitquitquit (localhost only)',
  },
  metricsAddress: {
    flag: '--metrics-address',
    env: 'METRICS_ADDRESS',
    default: addr.parse(':15020'),
    parser: addr,
    description: 'Prometheus metrics on /metrics and /stats/prometheus',
  },
  readinessAddress: {
    flag: '--readiness-address',
    env: 'READINESS_ADDRESS',
    default: addr.parse(':15021'),
    parser: addr,
    description:
      'Readiness probe /healthz/ready (200 once certificate and configuration are in, 503 while draining)',
  },
  drainTimeout: {
    flag: '--drain-timeout',
    env: 'TERMINATION_DRAIN_DURATION',
    default: 5000,
    parser: duration(),
    description:
      'On SIGTERM or /quitquitquit: how long in-flight requests and tunnels may finish before they are cut',
  },
  accessLog: {
    flag: '--access-log',
    env: 'ACCESS_LOG',
    default: true,
    parser: bool(),
    description:
      "One JSON line per request and TCP connection on stdout (Istio's JSON access-log fields)",
  },
  otlpEndpoint: {
    flag: '--otlp-endpoint',
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    default: '',
    parser: string(),
    description: 'OTLP/gRPC collector for traces (http://host:4317); empty: no tracing',
  },
  traceSampling: {
    flag: '--trace-sampling',
    env: 'PILOT_TRACE_SAMPLING',
    default: 1,
    parser: custom('a percentage 0..100', parsePercent),
    description:
      'Percent of requests without a sampling decision that are traced (Istio default 1)',
  },
  logLevel: {
    flag: '--log-level',
    env: 'LOG_LEVEL',
    default: 'info',
    parser: custom('trace, debug, info, warn, error, fatal or silent', (s) =>
      checkLogLevel(s.trim()),
    ),
    description: 'Log level; changeable at runtime with POST /logging?level=<level>',
  },
});

export type WaypointConfig = ReturnType<typeof loadWaypointConfig>;

export function loadWaypointConfig(source: SettingsSource) {
  return loadSettings(waypointSettings, source);
}

/** This process's arguments and environment: the only place the app reads them. */
export function processSource(): Required<SettingsSource> {
  return { argv: process.argv.slice(2), env: process.env };
}
