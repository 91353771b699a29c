// trellis-ca settings: flags and environment variables, parsed once.
import {
  custom,
  defineSettings,
  duration,
  hostPort,
  list,
  loadSettings,
  string,
  type SettingsSource,
} from '@trellis/core';
import { parseTrustDomain } from '@trellis/pki';
import { parseServiceAccountRef } from './caller.js';

export const caSettings = defineSettings({
  listen: {
    flag: '--listen',
    env: 'CA_LISTEN',
    default: hostPort().parse(':15012'),
    parser: hostPort(),
    description: 'Address of the gRPC CA service (TLS)',
  },
  caDir: {
    flag: '--ca-dir',
    env: 'CA_DIR',
    default: '',
    parser: string(),
    description:
      'Plug-in CA directory (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); without --static-tokens and with no files, the root is kept in Secret istio-ca-secret instead',
  },
  staticTokens: {
    flag: '--static-tokens',
    env: 'CA_STATIC_TOKENS',
    default: '',
    parser: string(),
    description:
      'No-cluster mode: YAML/JSON list of {token, namespace, serviceAccount, node}; without it, tokens are checked with Kubernetes TokenReview',
  },
  trustDomain: {
    flag: '--trust-domain',
    env: 'TRUST_DOMAIN',
    default: 'cluster.local',
    parser: custom('a trust domain', parseTrustDomain),
    description: 'SPIFFE trust domain of issued identities',
  },
  namespace: {
    flag: '--namespace',
    env: 'POD_NAMESPACE',
    default: 'istio-system',
    parser: string(),
    description: "The CA's namespace (cluster mode: where istio-ca-secret lives)",
  },
  audiences: {
    flag: '--audiences',
    env: 'TOKEN_AUDIENCES',
    default: ['istio-ca'],
    parser: list(),
    description: 'Token audiences accepted by TokenReview',
  },
  trustedNodeProxies: {
    flag: '--trusted-node-proxies',
    env: 'CA_TRUSTED_NODE_ACCOUNTS',
    parser: list(
      custom(
        '<namespace>/<service-account>',
        parseServiceAccountRef,
        (r) => `${r.namespace}/${r.serviceAccount}`,
      ),
    ),
    description:
      "Node proxies allowed to ask for ImpersonatedIdentity of pods on their node (namespace/service-account, comma separated; Istio's variable); default <--namespace>/ztunnel, the namespace ztunnel also defaults to (POD_NAMESPACE, istio-system)",
  },
  defaultTtl: {
    flag: '--default-ttl',
    env: 'DEFAULT_WORKLOAD_CERT_TTL',
    default: 24 * 3600_000,
    parser: duration(),
    description: 'Lifetime when the request asks for none',
  },
  maxTtl: {
    flag: '--max-ttl',
    env: 'MAX_WORKLOAD_CERT_TTL',
    default: 24 * 3600_000,
    parser: duration(),
    description: 'Longest lifetime granted; longer requests are capped',
  },
  dnsNames: {
    flag: '--dns-names',
    env: 'CA_DNS_NAMES',
    default: ['istiod.istio-system.svc', 'trellis-ca'],
    parser: list(),
    description: "DNS SANs of the CA's TLS certificate",
  },
  metricsPort: {
    flag: '--metrics-port',
    env: 'METRICS_PORT',
    default: 15014,
    parser: custom('a port from 0 to 65535 (-1 disables)', parsePort),
    description: 'Prometheus /metrics port (-1 disables, 0 picks one)',
  },
  logLevel: {
    flag: '--log-level',
    env: 'LOG_LEVEL',
    default: 'info',
    parser: string(),
    description: 'trace, debug, info, warn, error',
  },
  drain: {
    flag: '--drain',
    env: 'DRAIN_DURATION',
    default: 5000,
    parser: duration(),
    description: 'How long in-flight calls may finish on shutdown',
  },
});

function parsePort(raw: string): number {
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < -1 || n > 65535) throw new Error('not a port');
  return n;
}

export type CaConfig = ReturnType<typeof loadCaConfig>;

export function loadCaConfig(source: SettingsSource) {
  const s = loadSettings(caSettings, source);
  return {
    ...s,
    // ztunnel runs in the CA's namespace unless told otherwise, as upstream installs it.
    trustedNodeProxies: s.trustedNodeProxies ?? [
      { namespace: s.namespace, serviceAccount: 'ztunnel' },
    ],
  };
}
