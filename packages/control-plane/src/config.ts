// trellis-control-plane settings: every flag and environment variable, parsed once. The only
// module of the control plane that sees process.argv and process.env (main.ts passes them in).
import {
  bool,
  checkLogLevel,
  ConfigError,
  custom,
  defineSettings,
  duration,
  hostPort,
  list,
  loadSettings,
  LOG_LEVELS,
  string,
  type HostPort,
  type SettingsSource,
} from '@trellis/core';
import { parseServiceAccountRef, type ServiceAccountRef } from '@trellis/ca';
import { parseTrustDomain } from '@trellis/pki';
import { DEFAULT_MANIFEST_LIMITS, type ConfigDirLimits } from './ingest/index.js';

const address = hostPort();
const OFF = new Set(['off', 'none', 'disabled']);

/** host:port, or "off" to disable the listener. */
const optionalAddress = custom<HostPort | null>(
  `${address.expected}, or "off"`,
  (raw) => (OFF.has(raw.trim().toLowerCase()) ? null : address.parse(raw)),
  (v) => (v === null ? 'off' : address.format!(v)),
);

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1000, Ki: 1024, M: 1e6, Mi: 1024 ** 2 };

/** A size in bytes: 1048576, 512Ki, 1.5Mi, 2M. */
const byteSize = custom(
  'a size in bytes, e.g. 1048576, 512Ki, 1.5Mi',
  (raw) => {
    const m = /^(\d+(?:\.\d+)?)\s*(|k|Ki|M|Mi)$/.exec(raw.trim());
    const n = m ? Math.floor(Number(m[1]) * BYTE_UNITS[m[2]!]!) : NaN;
    if (!(n >= 1024)) throw new Error('must be a size of at least 1Ki');
    return n;
  },
  (n) =>
    n % 1024 ** 2 === 0 ? `${n / 1024 ** 2}Mi` : n % 1024 === 0 ? `${n / 1024}Ki` : String(n),
);

const dnsLabel = custom('a DNS-1123 label (lower-case letters, digits and "-")', (raw) => {
  const v = raw.trim();
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v)) throw new Error('not a DNS-1123 label');
  return v;
});

/** An OTLP/gRPC collector: http(s)://host:port and nothing after it. */
const otlpEndpoint = custom(
  'an OTLP/gRPC endpoint such as http://otel-collector.observability:4317',
  (raw) => {
    const v = raw.trim();
    if (!/^https?:\/\/[^\s/?#]+:\d+\/?$/.test(v))
      throw new Error('must be http://host:port or https://host:port');
    return v.replace(/\/$/, '');
  },
);

const serviceAccounts = list(
  custom(
    '<namespace>/<service-account>',
    parseServiceAccountRef,
    (r) => `${r.namespace}/${r.serviceAccount}`,
  ),
);

export const controlPlaneSettings = defineSettings({
  configDir: {
    flag: '--config-dir',
    env: 'CONFIG_DIR',
    parser: string(),
    description:
      'Serve the Kubernetes manifests (*.yaml, *.yml, *.json) in this directory instead of a cluster; changes are picked up live',
  },
  configMaxFileSize: {
    flag: '--config-max-file-size',
    env: 'CONFIG_MAX_FILE_SIZE',
    default: DEFAULT_MANIFEST_LIMITS.maxFileBytes,
    parser: byteSize,
    description: 'Config-dir mode: a larger file is skipped (and reported) without being read',
  },
  configMaxDocumentSize: {
    flag: '--config-max-document-size',
    env: 'CONFIG_MAX_DOCUMENT_SIZE',
    default: DEFAULT_MANIFEST_LIMITS.maxDocumentBytes,
    parser: byteSize,
    description:
      'Config-dir mode: a larger YAML/JSON document is rejected (1.5Mi is the largest object etcd stores by default)',
  },
  kubeconfig: {
    flag: '--kubeconfig',
    env: 'KUBECONFIG',
    parser: string(),
    description:
      'Serve from the cluster in this kubeconfig file; without it and without --config-dir, the in-cluster service account is used when KUBERNETES_SERVICE_HOST is set',
  },
  xdsAddress: {
    flag: '--xds-address',
    env: 'XDS_ADDRESS',
    default: address.parse('127.0.0.1:15010'),
    parser: optionalAddress,
    description:
      'Plaintext xDS (gRPC ADS, SotW and delta); keep it local, it has no authentication',
  },
  secureXdsAddress: {
    flag: '--secure-xds-address',
    env: 'SECURE_XDS_ADDRESS',
    parser: optionalAddress,
    description:
      'xDS and the CA (IstioCertificateService) over TLS, clients authenticated by bearer token; default :15012 in cluster mode, and in config-dir mode when --ca-dir or --static-tokens is given, else off',
  },
  debugAddress: {
    flag: '--debug-address',
    env: 'DEBUG_ADDRESS',
    default: address.parse(':15014'),
    parser: optionalAddress,
    description: 'Monitoring and debug HTTP: /metrics, /ready, /debug/syncz, /debug/configz',
  },
  caDir: {
    flag: '--ca-dir',
    env: 'CA_DIR',
    parser: string(),
    description:
      'Plug-in CA directory (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); created with a self-signed root when empty. Cluster mode without it (or with it empty): Secret istio-ca-secret in --system-namespace',
  },
  staticTokens: {
    flag: '--static-tokens',
    env: 'STATIC_TOKENS',
    parser: string(),
    description:
      'YAML/JSON list of {token, namespace, serviceAccount, node} accepted as bearer tokens on the secure port; without it, tokens are checked with Kubernetes TokenReview (cluster mode) ',
  },
  audiences: {
    flag: '--token-audiences',
    env: 'TOKEN_AUDIENCES',
    default: ['istio-ca'],
    parser: list(),
    description: 'Audiences a TokenReview-checked token must carry',
  },
  trustedNodeProxies: {
    flag: '--trusted-node-proxies',
    env: 'CA_TRUSTED_NODE_ACCOUNTS',
    parser: serviceAccounts,
    description:
      'Service accounts allowed to ask the CA for ImpersonatedIdentity (ns/sa, comma separated); default <system-namespace>/ztunnel',
  },
  trustDomain: {
    flag: '--trust-domain',
    env: 'TRUST_DOMAIN',
    default: 'cluster.local',
    parser: custom('a trust domain', parseTrustDomain),
    description: 'SPIFFE trust domain of workload identities',
  },
  clusterId: {
    flag: '--cluster-id',
    env: 'CLUSTER_ID',
    default: 'Kubernetes',
    parser: custom('a non-empty name without "/"', (raw) => {
      const v = raw.trim();
      if (v === '' || v.includes('/')) throw new Error('must be non-empty and contain no "/"');
      return v;
    }),
    description: 'Cluster name, the first segment of workload names (<cluster>//Pod/<ns>/<name>)',
  },
  domainSuffix: {
    flag: '--domain-suffix',
    env: 'DOMAIN_SUFFIX',
    default: 'cluster.local',
    parser: string(),
    description: 'DNS suffix of service hostnames (<name>.<ns>.svc.<suffix>)',
  },
  rootNamespace: {
    flag: '--root-namespace',
    env: 'ROOT_NAMESPACE',
    default: 'istio-system',
    parser: dnsLabel,
    description: 'Namespace whose AuthorizationPolicies and PeerAuthentications apply mesh-wide',
  },
  systemNamespace: {
    flag: '--system-namespace',
    env: 'POD_NAMESPACE',
    default: 'istio-system',
    parser: dnsLabel,
    description: "The control plane's own namespace (CA Secret, the address waypoints are given)",
  },
  network: {
    flag: '--network',
    env: 'NETWORK',
    default: '',
    parser: string(),
    description: 'Network name of workloads and service VIPs (empty: the default network)',
  },
  hboneRequiresRedirection: {
    flag: '--hbone-requires-redirection',
    env: 'HBONE_REQUIRES_REDIRECTION',
    parser: bool(),
    description:
      "Send a pod as HBONE only once the CNI agent annotated it ambient.istio.io/redirection=enabled (Istio's rule: its traffic is redirected to ztunnel only then); default true in cluster mode, false in config-dir mode",
  },
  debounceQuiet: {
    flag: '--debounce-quiet',
    env: 'PILOT_DEBOUNCE_AFTER',
    default: 100,
    parser: duration(),
    description: 'Push after this long without a new change',
  },
  debounceMax: {
    flag: '--debounce-max',
    env: 'PILOT_DEBOUNCE_MAX',
    default: 1000,
    parser: duration(),
    description: 'Push at most this long after the first change of a burst',
  },
  controllers: {
    flag: '--controllers',
    env: 'ENABLE_CONTROLLERS',
    default: true,
    parser: bool(),
    description:
      'Cluster mode: deploy waypoints for Gateways of a waypoint class and write status conditions',
  },
  waypointImage: {
    flag: '--waypoint-image',
    env: 'WAYPOINT_IMAGE',
    default: 'trellis/waypoint:dev',
    parser: string(),
    description: 'Container image of waypoint Deployments',
  },
  waypointXdsAddress: {
    flag: '--waypoint-xds-address',
    env: 'WAYPOINT_XDS_ADDRESS',
    parser: address,
    description:
      'xDS and CA address given to waypoints; default istiod.<system-namespace>.svc:15012',
  },
  waypointOtlpEndpoint: {
    flag: '--waypoint-otlp-endpoint',
    env: 'WAYPOINT_OTLP_ENDPOINT',
    parser: otlpEndpoint,
    description:
      'OTLP/gRPC collector given to waypoints for their traces (their OTEL_EXPORTER_OTLP_ENDPOINT); default none: waypoints export no traces',
  },
  caDnsNames: {
    flag: '--ca-dns-names',
    env: 'CA_DNS_NAMES',
    parser: list(),
    description:
      "DNS names of the secure port's TLS certificate; default istiod.<system-namespace>.svc, istiod.<system-namespace>.svc.<domain-suffix>, trellis-ca",
  },
  defaultTtl: {
    flag: '--default-cert-ttl',
    env: 'DEFAULT_WORKLOAD_CERT_TTL',
    default: 24 * 3600_000,
    parser: duration(),
    description: 'Workload certificate lifetime when the request asks for none',
  },
  maxTtl: {
    flag: '--max-cert-ttl',
    env: 'MAX_WORKLOAD_CERT_TTL',
    default: 24 * 3600_000,
    parser: duration(),
    description: 'Longest workload certificate lifetime granted',
  },
  drain: {
    flag: '--drain',
    env: 'DRAIN_DURATION',
    default: 5000,
    parser: duration(),
    description: 'On SIGTERM, how long xDS streams and in-flight calls may take to finish',
  },
  logLevel: {
    flag: '--log-level',
    env: 'LOG_LEVEL',
    default: 'info',
    parser: custom(`one of ${LOG_LEVELS.join(', ')}`, (raw) => checkLogLevel(raw.trim())),
    description: 'Log level',
  },
});

/** Where the cluster state comes from. */
export type SourceConfig =
  | { readonly kind: 'dir'; readonly dir: string }
  | { readonly kind: 'kube'; readonly kubeconfig: string | undefined };

export interface ControlPlaneConfig {
  readonly source: SourceConfig;
  /** Config-dir mode: file and document size limits. */
  readonly configLimits: ConfigDirLimits;
  readonly xdsAddress: HostPort | null;
  readonly secureXdsAddress: HostPort | null;
  readonly debugAddress: HostPort | null;
  readonly caDir: string | undefined;
  readonly staticTokens: string | undefined;
  readonly audiences: readonly string[];
  readonly trustedNodeProxies: readonly ServiceAccountRef[];
  readonly caDnsNames: readonly string[];
  readonly mesh: {
    readonly trustDomain: string;
    readonly clusterId: string;
    readonly domainSuffix: string;
    readonly rootNamespace: string;
    readonly network: string;
    readonly hboneRequiresRedirection: boolean;
  };
  readonly systemNamespace: string;
  readonly debounce: { readonly quietMs: number; readonly maxDelayMs: number };
  readonly controllers: boolean;
  readonly waypoint: {
    readonly image: string;
    readonly controlPlaneAddress: string;
    readonly otlpEndpoint?: string;
  };
  readonly defaultTtlMs: number;
  readonly maxTtlMs: number;
  readonly drainMs: number;
  readonly logLevel: string;
}

/**
 * Reads and checks every setting. Throws ConfigError listing each problem with the flag (or
 * variable) it concerns. `source.env.KUBERNETES_SERVICE_HOST` selects in-cluster mode.
 */
export function loadControlPlaneConfig(source: SettingsSource): ControlPlaneConfig {
  const s = loadSettings(controlPlaneSettings, source);
  const problems: string[] = [];
  const inCluster = Boolean(source.env?.['KUBERNETES_SERVICE_HOST']);
  const configDir = nonEmpty(s.configDir);
  const kubeconfig = nonEmpty(s.kubeconfig);
  const flagGiven = (flag: string) =>
    (source.argv ?? []).some((a) => a === flag || a.startsWith(`${flag}=`));

  let src: SourceConfig | undefined;
  if (configDir !== undefined) {
    // KUBECONFIG in the environment is common on a workstation; only the flag conflicts.
    if (flagGiven('--kubeconfig'))
      problems.push('--config-dir and --kubeconfig: give one source, not both');
    src = { kind: 'dir', dir: configDir };
  } else if (kubeconfig !== undefined || inCluster) {
    src = { kind: 'kube', kubeconfig };
  } else {
    problems.push(
      'no source: give --config-dir DIR (manifests), --kubeconfig FILE, or run in a cluster (KUBERNETES_SERVICE_HOST)',
    );
  }
  if (s.configMaxDocumentSize > s.configMaxFileSize)
    problems.push('--config-max-document-size must not be larger than --config-max-file-size');
  if (s.debounceMax < s.debounceQuiet)
    problems.push(
      `--debounce-max (${s.debounceMax}ms) must not be shorter than --debounce-quiet (${s.debounceQuiet}ms)`,
    );

  const caDir = nonEmpty(s.caDir);
  const staticTokens = nonEmpty(s.staticTokens);
  const secureByDefault = src?.kind === 'kube' || caDir !== undefined || staticTokens !== undefined;
  const secureXdsAddress =
    s.secureXdsAddress !== undefined
      ? s.secureXdsAddress
      : secureByDefault
        ? address.parse(':15012')
        : null;
  if (secureXdsAddress && src?.kind === 'dir' && staticTokens === undefined)
    problems.push(
      '--secure-xds-address in config-dir mode needs --static-tokens (there is no cluster to check tokens with)',
    );
  if (problems.length) throw new ConfigError(problems);

  const sys = s.systemNamespace;
  return {
    source: src!,
    configLimits: { maxFileBytes: s.configMaxFileSize, maxDocumentBytes: s.configMaxDocumentSize },
    xdsAddress: s.xdsAddress,
    secureXdsAddress,
    debugAddress: s.debugAddress,
    caDir,
    staticTokens,
    audiences: s.audiences,
    trustedNodeProxies: s.trustedNodeProxies ?? [{ namespace: sys, serviceAccount: 'ztunnel' }],
    caDnsNames: s.caDnsNames ?? [
      `istiod.${sys}.svc`,
      `istiod.${sys}.svc.${s.domainSuffix}`,
      'trellis-ca',
    ],
    mesh: {
      trustDomain: s.trustDomain,
      clusterId: s.clusterId,
      domainSuffix: s.domainSuffix,
      rootNamespace: s.rootNamespace,
      network: s.network,
      hboneRequiresRedirection: s.hboneRequiresRedirection ?? src!.kind === 'kube',
    },
    systemNamespace: sys,
    debounce: { quietMs: s.debounceQuiet, maxDelayMs: s.debounceMax },
    controllers: s.controllers,
    waypoint: {
      image: s.waypointImage,
      controlPlaneAddress: s.waypointXdsAddress
        ? address.format!(s.waypointXdsAddress)
        : `istiod.${sys}.svc:15012`,
      ...(s.waypointOtlpEndpoint ? { otlpEndpoint: s.waypointOtlpEndpoint } : {}),
    },
    defaultTtlMs: s.defaultTtl,
    maxTtlMs: s.maxTtl,
    drainMs: s.drain,
    logLevel: s.logLevel,
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
