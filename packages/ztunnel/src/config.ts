// trellis-ztunnel settings: every flag and environment variable, its default and description,
// parsed once. The only module that names process-level configuration; main.ts passes it
// process.argv/process.env, tests pass plain maps.
import { availableParallelism } from 'node:os';
import {
  bool,
  checkLogLevel,
  ConfigError,
  custom,
  ipAddress,
  defineSettings,
  duration,
  hostPort,
  int,
  loadSettings,
  oneOf,
  string,
  type LogLevel,
  type SettingsSource,
} from '@trellis/core';
import { CA_CLIENT_SETTINGS } from '@trellis/ca/client';
import { parseTrustDomain } from '@trellis/pki';

export const PROGRAM = 'trellis-ztunnel';
export const SUMMARY =
  'The per-node L4 proxy of the Trellis ambient mesh: the state store (from --local-config or WDS), ' +
  'the identity manager, the HBONE proxies (per pod over ZDS, for one workload, or for every workload) and the admin, metrics and readiness servers.';

/**
 * shared: the node proxy, listeners inside each pod's netns handed over by ZDS (upstream's
 * default); dedicated: one workload's proxy in its own netns (upstream's value); all-workloads
 * (Trellis only): one listener set in this netns for every workload in the store.
 */
export type ProxyMode = 'shared' | 'dedicated' | 'all-workloads';

/** The workload a dedicated ztunnel serves (PROXY_WORKLOAD_INFO). */
export interface ProxyWorkloadInfo {
  readonly namespace: string;
  readonly name: string;
  readonly serviceAccount: string;
}

export function parseProxyWorkloadInfo(raw: string): ProxyWorkloadInfo {
  const parts = raw.trim().split('/');
  if (parts.length !== 3 || parts.some((p) => p === ''))
    throw new Error('not namespace/name/service-account');
  const [namespace, name, serviceAccount] = parts as [string, string, string];
  return { namespace, name, serviceAccount };
}

/** --workers as given: a count, or a percentage of the CPU limit. */
export type WorkerSpec = { readonly count: number } | { readonly percent: number };

const DEFAULT_WORKERS = 2;
const MAX_WORKERS = 256;

export function parseWorkerSpec(raw: string): WorkerSpec {
  const v = raw.trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(v);
  if (percent) {
    const p = Number(percent[1]);
    if (p <= 0 || p > 100) throw new Error('a percentage must be above 0 and at most 100');
    return { percent: p };
  }
  if (!/^\d+$/.test(v)) throw new Error('not a count or a percentage');
  const count = Number(v);
  if (count < 1 || count > MAX_WORKERS) throw new Error(`a count must be 1-${MAX_WORKERS}`);
  return { count };
}

/** The number of workers: the count, or the percentage of the CPUs rounded up (at least 1). */
export function resolveWorkers(spec: WorkerSpec, cpus: number): number {
  if ('count' in spec) return spec.count;
  return Math.min(MAX_WORKERS, Math.max(1, Math.ceil((cpus * spec.percent) / 100)));
}

/** The default level and per-scope levels, e.g. "info,rbac=debug". */
export interface LogLevels {
  readonly level: LogLevel;
  readonly scopes: Readonly<Record<string, LogLevel>>;
}

export function parseLogLevels(raw: string): LogLevels {
  let level: LogLevel = 'info';
  const scopes: Record<string, LogLevel> = {};
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq === -1) level = checkLogLevel(part);
    else scopes[part.slice(0, eq)] = checkLogLevel(part.slice(eq + 1));
  }
  return { level, scopes };
}

function formatLogLevels(l: LogLevels): string {
  return [l.level, ...Object.entries(l.scopes).map(([s, v]) => `${s}=${v}`)].join(',');
}

const addr = hostPort();

export const ztunnelSettings = defineSettings({
  localConfig: {
    flag: '--local-config',
    env: 'LOCAL_XDS_PATH',
    parser: string(),
    description:
      'YAML file of workloads, services and policies loaded into the state store instead of xDS (see examples/local.yaml); re-read on SIGHUP',
  },
  xdsAddress: {
    flag: '--xds-address',
    env: 'XDS_ADDRESS',
    default: addr.parse('istiod.istio-system.svc:15012'),
    parser: addr,
    description:
      'Control plane address for WDS (delta ADS over TLS); used when --local-config is not given',
  },
  ...CA_CLIENT_SETTINGS,
  zdsSocket: {
    flag: '--zds-socket',
    env: 'INPOD_UDS',
    default: '/var/run/ztunnel/ztunnel.sock',
    parser: string(),
    description: 'Unix socket of the CNI node agent (ZDS) that hands over pod network namespaces',
  },
  nodeName: {
    flag: '--node-name',
    env: 'NODE_NAME',
    default: '',
    parser: string(),
    description: 'Kubernetes node this ztunnel serves',
  },
  podIp: {
    flag: '--pod-ip',
    env: 'INSTANCE_IP',
    parser: ipAddress(),
    description: "This ztunnel pod's IP (part of its xDS node id)",
  },
  podName: {
    flag: '--pod-name',
    env: 'POD_NAME',
    default: '',
    parser: string(),
    description: "This ztunnel pod's name (part of its xDS node id)",
  },
  podNamespace: {
    flag: '--pod-namespace',
    env: 'POD_NAMESPACE',
    default: 'istio-system',
    parser: string(),
    description: "This ztunnel pod's namespace (part of its xDS node id)",
  },
  clusterId: {
    flag: '--cluster-id',
    env: 'CLUSTER_ID',
    default: 'Kubernetes',
    parser: string(),
    description: 'Cluster name, sent to the CA and control plane',
  },
  trustDomain: {
    flag: '--trust-domain',
    env: 'TRUST_DOMAIN',
    default: 'cluster.local',
    parser: custom('a SPIFFE trust domain such as cluster.local', parseTrustDomain),
    description: 'SPIFFE trust domain of workload identities',
  },
  network: {
    flag: '--network',
    env: 'NETWORK',
    default: '',
    parser: string(),
    description: 'Network this node is in; addresses are looked up within it',
  },
  adminAddress: {
    flag: '--admin-address',
    env: 'ADMIN_ADDRESS',
    default: addr.parse('127.0.0.1:15000'),
    parser: addr,
    description:
      'Admin HTTP server: /config_dump, /logging, /quitquitquit (keep it on localhost: any other address is warned about at start-up)',
  },
  adminAllowRemoteChanges: {
    flag: '--admin-allow-remote-changes',
    env: 'ADMIN_ALLOW_REMOTE_CHANGES',
    default: false,
    parser: bool(),
    description:
      'Accept POST /logging and /quitquitquit from peers other than localhost (refused otherwise; cross-origin browser requests are refused always)',
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
    description: 'Readiness probe /healthz/ready (503 until the initial configuration is loaded)',
  },
  workers: {
    flag: '--workers',
    env: 'ZTUNNEL_WORKER_THREADS',
    default: { count: DEFAULT_WORKERS } as WorkerSpec,
    parser: custom(
      `a count (1-${MAX_WORKERS}) or a percentage of --cpu-limit, e.g. 50%`,
      parseWorkerSpec,
      (w) => ('count' in w ? String(w.count) : `${w.percent}%`),
    ),
    description:
      "Processes carrying connections (default 2, as upstream ztunnel's worker threads; a percentage is of --cpu-limit, rounded up). 1: everything in this process; N > 1: this process keeps ZDS, the listeners, state, certificates, admin, metrics and readiness and hands every accepted connection to one of N workers",
  },
  cpuLimit: {
    flag: '--cpu-limit',
    env: 'ZTUNNEL_CPU_LIMIT',
    default: availableParallelism(),
    parser: int({ min: 1, max: 4096 }),
    description:
      "The CPUs a percentage in --workers is of: set it from the container's CPU limit (downward API limits.cpu); default: the CPUs of this machine",
  },
  proxyMode: {
    flag: '--proxy-mode',
    env: 'PROXY_MODE',
    default: 'shared' as ProxyMode,
    parser: oneOf(['shared', 'dedicated', 'all-workloads'] as const),
    description:
      "shared (upstream's default): the node proxy, with listeners inside each pod's netns handed over by ZDS; dedicated (as upstream): the proxy of the one workload PROXY_WORKLOAD_INFO at INSTANCE_IP, listening in this netns; all-workloads (Trellis only, local runs and tests): one set of listeners in this netns for every workload in the store",
  },
  proxyWorkloadInfo: {
    flag: '--proxy-workload-info',
    env: 'PROXY_WORKLOAD_INFO',
    parser: custom('<namespace>/<name>/<service-account>', parseProxyWorkloadInfo, (w) =>
      [w.namespace, w.name, w.serviceAccount].join('/'),
    ),
    description:
      'Dedicated mode: the workload served, as namespace/name/service-account (its identity is the one ztunnel asks the CA for, with its own token)',
  },
  outboundAddress: {
    flag: '--outbound-address',
    env: 'OUTBOUND_ADDRESS',
    default: addr.parse('127.0.0.1:15001'),
    parser: addr,
    description:
      'All-workloads and dedicated modes: outbound listener (connections redirected here keep their SO_ORIGINAL_DST)',
  },
  inboundAddress: {
    flag: '--inbound-address',
    env: 'INBOUND_ADDRESS',
    default: addr.parse('127.0.0.1:15008'),
    parser: addr,
    description:
      'All-workloads and dedicated modes: inbound HBONE listener (dedicated: use 0.0.0.0:15008 to be reachable)',
  },
  inboundPlaintextAddress: {
    flag: '--inbound-plaintext-address',
    env: 'INBOUND_PLAINTEXT_ADDRESS',
    default: addr.parse('127.0.0.1:15006'),
    parser: addr,
    description:
      'All-workloads and dedicated modes: inbound plaintext listener (PERMISSIVE; dedicated: 0.0.0.0:15006)',
  },
  hbonePort: {
    flag: '--hbone-port',
    env: 'HBONE_PORT',
    default: 15008,
    parser: int({ min: 1, max: 65535 }),
    description: "Port of the peers' HBONE servers that outbound connections dial",
  },
  serviceAccount: {
    flag: '--service-account',
    env: 'SERVICE_ACCOUNT',
    default: 'ztunnel',
    parser: string(),
    description: "This ztunnel's service account (with --pod-namespace, its own SPIFFE identity)",
  },
  hboneIdleTimeout: {
    flag: '--hbone-idle-timeout',
    env: 'HBONE_IDLE_TIMEOUT',
    default: 10 * 60_000,
    parser: duration(),
    description:
      'Inbound HBONE connections that carry no stream (including ones that never finished the HTTP/2 preface) are closed after this long; longer than clients keep idle pooled connections (5m)',
  },
  maxHboneConnections: {
    flag: '--max-hbone-connections',
    env: 'MAX_HBONE_CONNECTIONS',
    default: 20_000,
    parser: int({ min: 1, max: 10_000_000 }),
    description:
      'Cap on inbound HBONE connections this ztunnel holds across all its pods (split evenly between --workers); past it new ones are refused before TLS and counted in hbone_refused_connections_total{reason="limit"}',
  },
  drainTimeout: {
    flag: '--drain-timeout',
    env: 'CONNECTION_TERMINATION_DEADLINE',
    default: 5000,
    parser: duration(),
    description:
      'On SIGTERM or /quitquitquit, how long open connections may finish before they are closed',
  },
  dnsProxy: {
    flag: '--dns-proxy',
    env: 'ISTIO_META_DNS_CAPTURE',
    default: true,
    parser: bool(),
    description:
      "In-pod: serve DNS on 127.0.0.1:15053 in every pod netns (the CNI's DNS capture sends the pod's port-53 traffic there): mesh service names answered from WDS, the rest forwarded to --dns-resolv-conf's nameservers",
  },
  dnsResolvConf: {
    flag: '--dns-resolv-conf',
    env: 'DNS_RESOLV_CONF',
    default: '/etc/resolv.conf',
    parser: string(),
    description:
      "Where the DNS proxy forwards what it does not answer: this file's nameservers (ztunnel's own, as upstream ztunnel does; in a cluster that is kube-dns), read at start",
  },
  clusterDomain: {
    flag: '--cluster-domain',
    env: 'CLUSTER_DOMAIN',
    default: 'cluster.local',
    parser: string(),
    description: 'DNS domain of the cluster (<svc>.<ns>.svc.<domain>), for the DNS proxy',
  },
  ipv6Enabled: {
    flag: '--ipv6-enabled',
    env: 'IPV6_ENABLED',
    default: true,
    parser: bool(),
    description: 'The DNS proxy answers AAAA queries for mesh services (off: empty answers)',
  },
  logLevel: {
    flag: '--log-level',
    env: 'LOG_LEVEL',
    default: { level: 'info', scopes: {} } as LogLevels,
    parser: custom(
      'a level (trace, debug, info, warn, error, fatal, silent), optionally with scope=level entries: info,rbac=debug',
      parseLogLevels,
      formatLogLevels,
    ),
    description:
      'Log level, and optionally levels per scope; changeable at runtime with POST /logging',
  },
});

export type ZtunnelConfig = ReturnType<typeof loadZtunnelConfig>;

/** Reads every setting; throws a ConfigError listing every problem, each naming its flag or variable. */
export function loadZtunnelConfig(source: SettingsSource) {
  const settings = loadSettings(ztunnelSettings, source);
  const config = { ...settings, workers: resolveWorkers(settings.workers, settings.cpuLimit) };
  if (config.proxyMode === 'dedicated') {
    const problems: string[] = [];
    if (!config.proxyWorkloadInfo)
      problems.push(
        '--proxy-mode dedicated needs --proxy-workload-info (PROXY_WORKLOAD_INFO): the namespace/name/service-account of the workload it serves',
      );
    if (!config.podIp)
      problems.push(
        "--proxy-mode dedicated needs --pod-ip (INSTANCE_IP): the served workload's address",
      );
    if (problems.length) throw new ConfigError(problems);
  }
  return config;
}

/** This process's arguments and environment: the only place the app reads them. */
export function processSource(): Required<SettingsSource> {
  return { argv: process.argv.slice(2), env: process.env };
}
