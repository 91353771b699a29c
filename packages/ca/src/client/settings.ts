// The settings every CA client process shares (ztunnel, waypoint): where the CA is, the root its
// TLS chains up to, and the token it authenticates with, under Istio's flag and variable names.
// Spread into a process's defineSettings.
import { hostPort, string } from '@trellis/core';

const addr = hostPort();

export const CA_CLIENT_SETTINGS = {
  caAddress: {
    flag: '--ca-address',
    env: 'CA_ADDRESS',
    default: addr.parse('istiod.istio-system.svc:15012'),
    parser: addr,
    description: 'Certificate authority address (istio.v1.auth.IstioCertificateService over TLS)',
  },
  caRootCert: {
    flag: '--ca-root-cert',
    env: 'CA_ROOT_CA',
    default: '/var/run/secrets/istio/root-cert.pem',
    parser: string(),
    description: 'PEM file of the root certificate that the CA and control plane TLS chains up to',
  },
  tokenPath: {
    flag: '--token-path',
    env: 'AUTH_TOKEN',
    default: '/var/run/secrets/tokens/istio-token',
    parser: string(),
    description:
      'Service-account token (audience istio-ca) sent as the bearer token to the CA and control plane; re-read on each use',
  },
} as const;
