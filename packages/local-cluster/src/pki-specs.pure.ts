// What each control-plane certificate says: subject and extensions, as openssl config text.

export interface CertSpec {
  file: string;
  commonName: string;
  organization?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client';
}

export function apiServerSANs(
  hostIP: string,
  kubernetesServiceIP: string,
): { dns: string[]; ips: string[] } {
  return {
    dns: [
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
      'localhost',
    ],
    ips: ['127.0.0.1', hostIP, kubernetesServiceIP],
  };
}

export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';
/** The load-balancer controller's user; RBAC grants it what a cloud's service controller needs. */
export const LB_CONTROLLER_USER = 'trellis-lb-controller';

export interface NodeIdentity {
  name: string;
  ip: string;
}

export function certSpecs(
  hostIP: string,
  kubernetesServiceIP: string,
  nodes: NodeIdentity[],
): CertSpec[] {
  const san = apiServerSANs(hostIP, kubernetesServiceIP);
  return [
    {
      file: 'apiserver',
      commonName: 'kube-apiserver',
      dnsNames: san.dns,
      ipAddresses: san.ips,
      usage: 'server',
    },
    // The apiserver's identity towards kubelets: no group; RBAC grants it system:kubelet-api-admin,
    // which node emulators check with a SubjectAccessReview like a kubelet in webhook mode.
    {
      file: 'apiserver-kubelet-client',
      commonName: KUBELET_CLIENT_USER,
      usage: 'client',
    },
    {
      file: 'admin',
      commonName: 'kubernetes-admin',
      organization: 'system:masters',
      usage: 'client',
    },
    {
      file: 'kube-controller-manager',
      commonName: 'system:kube-controller-manager',
      usage: 'client',
    },
    { file: 'kube-scheduler', commonName: 'system:kube-scheduler', usage: 'client' },
    { file: 'kube-proxy', commonName: 'system:kube-proxy', usage: 'client' },
    { file: 'lb-controller', commonName: LB_CONTROLLER_USER, usage: 'client' },
    ...nodes.flatMap((n): CertSpec[] => [
      {
        file: `node-${n.name}`,
        commonName: `system:node:${n.name}`,
        organization: 'system:nodes',
        usage: 'client',
      },
      // The emulator's kubelet endpoint (:10250, container logs), verified by the apiserver.
      {
        file: `node-${n.name}-serving`,
        commonName: `system:node:${n.name}`,
        organization: 'system:nodes',
        dnsNames: [n.name],
        ipAddresses: [n.ip],
        usage: 'server',
      },
    ]),
  ];
}

/** The `-subj` argument of `openssl req`. */
export function subjectArg(s: CertSpec): string {
  return (s.organization ? `/O=${s.organization}` : '') + `/CN=${s.commonName}`;
}

/** An openssl extensions file with section [ext] for `openssl x509 -req -extfile f -extensions ext`. */
export function extensionsConfig(s: CertSpec): string {
  const lines = [
    '[ext]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
  ];
  lines.push(`extendedKeyUsage = ${s.usage === 'server' ? 'serverAuth' : 'clientAuth'}`);
  const alt = [
    ...(s.dnsNames ?? []).map((d) => `DNS:${d}`),
    ...(s.ipAddresses ?? []).map((ip) => `IP:${ip}`),
  ];
  if (alt.length) lines.push(`subjectAltName = ${alt.join(', ')}`);
  return lines.join('\n') + '\n';
}
