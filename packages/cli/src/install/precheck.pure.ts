// `trellis precheck`: what would stop an install, from facts gathered from the cluster. Pure: the
// facts in, one result per check out, each failure with what to do.
import type { KubeObject } from '../kube/objects.pure.js';

export const MIN_KUBERNETES = { major: 1, minor: 30 };
export const MIN_KERNEL = { major: 4, minor: 19 };
const MIN_GATEWAY_API = { major: 1, minor: 1 };

export interface ClusterFacts {
  readonly serverVersion: { major: string; minor: string; gitVersion: string };
  readonly clusterAdmin: boolean;
  readonly nodes: readonly KubeObject[];
  readonly crds: readonly KubeObject[];
  readonly deployments: readonly KubeObject[];
  readonly daemonSets: readonly KubeObject[];
  readonly mutatingWebhooks: readonly KubeObject[];
  readonly namespaces: readonly KubeObject[];
  readonly tokenRequestServed: boolean;
}

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly message: string;
  readonly hint?: string;
}

export function precheck(f: ClusterFacts): CheckResult[] {
  return [
    kubernetesVersion(f),
    permissions(f),
    istio(f),
    existingTrellis(f),
    nodes(f),
    kernels(f),
    gatewayApi(f),
    tokenRequest(f),
    cniDir(f),
  ];
}

function versionOf(text: string): { major: number; minor: number } | undefined {
  const m = /(\d+)\.(\d+)/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

const below = (v: { major: number; minor: number }, min: { major: number; minor: number }) =>
  v.major < min.major || (v.major === min.major && v.minor < min.minor);

function kubernetesVersion(f: ClusterFacts): CheckResult {
  const v = versionOf(`${f.serverVersion.major}.${f.serverVersion.minor.replace(/\D/g, '')}`);
  if (!v)
    return {
      check: 'kubernetes version',
      status: 'warn',
      message: `cannot read the version "${f.serverVersion.gitVersion}"`,
    };
  return below(v, MIN_KUBERNETES)
    ? {
        check: 'kubernetes version',
        status: 'fail',
        message: `${f.serverVersion.gitVersion} is older than ${MIN_KUBERNETES.major}.${MIN_KUBERNETES.minor}`,
        hint: `upgrade the cluster to Kubernetes ${MIN_KUBERNETES.major}.${MIN_KUBERNETES.minor} or later (CRD validation rules, sidecar-less pod features)`,
      }
    : { check: 'kubernetes version', status: 'ok', message: f.serverVersion.gitVersion };
}

function permissions(f: ClusterFacts): CheckResult {
  return f.clusterAdmin
    ? { check: 'permissions', status: 'ok', message: 'you may create every kind install needs' }
    : {
        check: 'permissions',
        status: 'fail',
        message:
          'your user is not cluster-admin; install creates CRDs, ClusterRoles and privileged DaemonSets',
        hint: 'run with a cluster-admin kubeconfig (--kubeconfig/--context)',
      };
}

function istio(f: ClusterFacts): CheckResult {
  const found: string[] = [];
  for (const d of f.deployments)
    if (d.metadata?.name === 'istiod' || d.metadata?.labels?.app === 'istiod')
      found.push(`Deployment ${d.metadata.namespace}/${d.metadata.name}`);
  for (const d of f.daemonSets)
    if (
      d.metadata?.namespace !== 'trellis-system' &&
      (d.metadata?.name === 'ztunnel' || d.metadata?.name === 'istio-cni-node')
    )
      found.push(`DaemonSet ${d.metadata.namespace}/${d.metadata.name}`);
  for (const w of f.mutatingWebhooks)
    if (String(w.metadata?.name).startsWith('istio-'))
      found.push(`MutatingWebhookConfiguration ${w.metadata.name}`);
  const foreignCrds = f.crds.filter(
    (c) =>
      (String(c.metadata?.name).endsWith('.security.istio.io') ||
        c.metadata?.name === 'destinationrules.networking.istio.io') &&
      c.metadata?.labels?.['app.kubernetes.io/part-of'] !== 'trellis',
  );
  for (const c of foreignCrds) found.push(`CRD ${c.metadata.name} (not Trellis's)`);
  return found.length
    ? {
        check: 'istio',
        status: 'fail',
        message: `an Istio installation is present: ${found.join(', ')}`,
        hint: 'Trellis and Istio would both redirect pod traffic and own the security.istio.io CRDs; uninstall Istio first (istioctl uninstall --purge) or use another cluster',
      }
    : {
        check: 'istio',
        status: 'ok',
        message: 'no Istio control plane, ztunnel, CNI or CRDs found',
      };
}

function existingTrellis(f: ClusterFacts): CheckResult {
  const cp = f.deployments.find(
    (d) =>
      d.metadata?.namespace === 'trellis-system' && d.metadata?.name === 'trellis-control-plane',
  );
  const ns = f.namespaces.find((n) => n.metadata?.name === 'trellis-system');
  if (ns?.metadata?.deletionTimestamp)
    return {
      check: 'trellis',
      status: 'fail',
      message: 'namespace trellis-system is being deleted',
      hint: 'wait until it is gone (kubectl get ns trellis-system), then install',
    };
  return cp
    ? {
        check: 'trellis',
        status: 'ok',
        message:
          `Trellis ${cp.metadata?.labels?.['app.kubernetes.io/version'] ?? ''} is installed; install upgrades it in place`.replace(
            '  ',
            ' ',
          ),
      }
    : { check: 'trellis', status: 'ok', message: 'not installed yet' };
}

function nodes(f: ClusterFacts): CheckResult {
  if (f.nodes.length === 0)
    return {
      check: 'nodes',
      status: 'fail',
      message: 'the cluster has no nodes',
      hint: 'add nodes; ztunnel and the CNI agent run on each',
    };
  const notReady = f.nodes.filter(
    (n) =>
      !(n.status?.conditions ?? []).some(
        (c: KubeObject) => c.type === 'Ready' && c.status === 'True',
      ),
  );
  const notLinux = f.nodes.filter(
    (n) => n.status?.nodeInfo?.operatingSystem && n.status.nodeInfo.operatingSystem !== 'linux',
  );
  if (notLinux.length)
    return {
      check: 'nodes',
      status: 'warn',
      message: `${notLinux.map((n) => n.metadata.name).join(', ')} are not Linux; the mesh runs on Linux nodes only`,
    };
  return notReady.length
    ? {
        check: 'nodes',
        status: 'warn',
        message: `${notReady.length} of ${f.nodes.length} nodes are not Ready: ${notReady.map((n) => n.metadata.name).join(', ')}`,
        hint: 'the DaemonSets cannot become Ready on them; fix the nodes or expect install to wait',
      }
    : { check: 'nodes', status: 'ok', message: `${f.nodes.length} nodes Ready` };
}

function kernels(f: ClusterFacts): CheckResult {
  const old = f.nodes.filter((n) => {
    const v = versionOf(n.status?.nodeInfo?.kernelVersion ?? '');
    return v !== undefined && below(v, MIN_KERNEL);
  });
  return old.length
    ? {
        check: 'kernel',
        status: 'fail',
        message: `${old.map((n) => `${n.metadata.name} (${n.status.nodeInfo.kernelVersion})`).join(', ')} run a kernel older than ${MIN_KERNEL.major}.${MIN_KERNEL.minor}`,
        hint: 'in-pod redirection needs TPROXY, socket marks and nftables from Linux 4.19 or later',
      }
    : {
        check: 'kernel',
        status: 'ok',
        message:
          [...new Set(f.nodes.map((n) => n.status?.nodeInfo?.kernelVersion).filter(Boolean))].join(
            ', ',
          ) || 'unknown',
      };
}

function gatewayApi(f: ClusterFacts): CheckResult {
  const crd = f.crds.find((c) => c.metadata?.name === 'gateways.gateway.networking.k8s.io');
  if (!crd)
    return {
      check: 'gateway api',
      status: 'ok',
      message: 'not installed; install applies the pinned release',
    };
  const version = crd.metadata?.annotations?.['gateway.networking.k8s.io/bundle-version'] ?? '';
  const v = versionOf(version);
  return v && below(v, MIN_GATEWAY_API)
    ? {
        check: 'gateway api',
        status: 'fail',
        message: `Gateway API ${version} is installed; Trellis needs ${MIN_GATEWAY_API.major}.${MIN_GATEWAY_API.minor} or later (GRPCRoute v1)`,
        hint: 'upgrade the Gateway API CRDs (kubectl apply --server-side -f <standard-install.yaml>)',
      }
    : { check: 'gateway api', status: 'ok', message: `${version || 'unknown version'} installed` };
}

function tokenRequest(f: ClusterFacts): CheckResult {
  return f.tokenRequestServed
    ? {
        check: 'service account tokens',
        status: 'ok',
        message: 'TokenRequest API served (audience istio-ca tokens)',
      }
    : {
        check: 'service account tokens',
        status: 'fail',
        message: 'the API server does not serve serviceaccounts/token',
        hint: 'ztunnel and waypoints authenticate with projected tokens; enable the TokenRequest API (--service-account-issuer)',
      };
}

function cniDir(f: ClusterFacts): CheckResult {
  const gke = f.nodes.some((n) => String(n.spec?.providerID ?? '').startsWith('gce://'));
  return gke
    ? {
        check: 'cni directories',
        status: 'warn',
        message: 'GKE nodes keep CNI plugins in /home/kubernetes/bin',
        hint: 'install with --set cni.binDir=/home/kubernetes/bin',
      }
    : {
        check: 'cni directories',
        status: 'ok',
        message:
          'the agent uses /etc/cni/net.d and /opt/cni/bin on each node (--set cni.confDir/cni.binDir to change)',
      };
}
