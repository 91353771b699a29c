// Command lines of the control-plane processes, built from the cluster layout and its file paths.
import type { ClusterLayout, NodeLayout } from './layout.pure.js';

export interface PkiPaths {
  caCert: string;
  caKey: string;
  apiServerCert: string;
  apiServerKey: string;
  saKey: string;
  saPub: string;
  apiServerKubeletClientCert: string;
  apiServerKubeletClientKey: string;
}

export interface ProcessSpec {
  name: string;
  binary: string;
  args: string[];
}

export function pkiPaths(stateDir: string): PkiPaths {
  const p = `${stateDir}/pki`;
  return {
    caCert: `${p}/ca.crt`,
    caKey: `${p}/ca.key`,
    apiServerCert: `${p}/apiserver.crt`,
    apiServerKey: `${p}/apiserver.key`,
    saKey: `${p}/sa.key`,
    saPub: `${p}/sa.pub`,
    apiServerKubeletClientCert: `${p}/apiserver-kubelet-client.crt`,
    apiServerKubeletClientKey: `${p}/apiserver-kubelet-client.key`,
  };
}

export function kubeconfigPath(stateDir: string, user: string): string {
  return `${stateDir}/kubeconfig/${user}.yaml`;
}

export function etcdSpec(l: ClusterLayout, binDir: string): ProcessSpec {
  return {
    name: 'etcd',
    binary: `${binDir}/etcd`,
    args: [
      `--name=${l.name}`,
      `--data-dir=${l.stateDir}/etcd`,
      `--listen-client-urls=${l.etcdClientURL}`,
      `--advertise-client-urls=${l.etcdClientURL}`,
      `--listen-peer-urls=${l.etcdPeerURL}`,
      `--initial-advertise-peer-urls=${l.etcdPeerURL}`,
      `--initial-cluster=${l.name}=${l.etcdPeerURL}`,
      '--listen-metrics-urls=',
      '--quota-backend-bytes=2147483648',
      '--log-level=warn',
    ],
  };
}

export function apiServerSpec(l: ClusterLayout, binDir: string): ProcessSpec {
  const pki = pkiPaths(l.stateDir);
  return {
    name: 'kube-apiserver',
    binary: `${binDir}/kube-apiserver`,
    args: [
      `--etcd-servers=${l.etcdClientURL}`,
      `--bind-address=${l.hostIP}`,
      `--advertise-address=${l.hostIP}`,
      `--secure-port=${l.apiServerPort}`,
      `--service-cluster-ip-range=${l.serviceCIDR}`,
      `--tls-cert-file=${pki.apiServerCert}`,
      `--tls-private-key-file=${pki.apiServerKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--kubelet-client-certificate=${pki.apiServerKubeletClientCert}`,
      `--kubelet-client-key=${pki.apiServerKubeletClientKey}`,
      `--kubelet-certificate-authority=${pki.caCert}`,
      '--kubelet-preferred-address-types=InternalIP',
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      '--api-audiences=https://kubernetes.default.svc.cluster.local',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
    ],
  };
}

export function controllerManagerSpec(l: ClusterLayout, binDir: string): ProcessSpec {
  const pki = pkiPaths(l.stateDir);
  const kc = kubeconfigPath(l.stateDir, 'kube-controller-manager');
  return {
    name: 'kube-controller-manager',
    binary: `${binDir}/kube-controller-manager`,
    args: [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${l.controllerManagerPort}`,
      '--controllers=*,bootstrapsigner,tokencleaner',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      '--allocate-node-cidrs=true',
      `--cluster-cidr=${l.clusterCIDR}`,
      '--node-cidr-mask-size=24',
      `--service-cluster-ip-range=${l.serviceCIDR}`,
      `--cluster-name=${l.name}`,
      '--leader-elect=false',
      '--profiling=false',
      '--v=1',
    ],
  };
}

export function schedulerSpec(l: ClusterLayout, binDir: string): ProcessSpec {
  const kc = kubeconfigPath(l.stateDir, 'kube-scheduler');
  return {
    name: 'kube-scheduler',
    binary: `${binDir}/kube-scheduler`,
    args: [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${l.schedulerPort}`,
      '--leader-elect=false',
      '--profiling=false',
      '--v=1',
    ],
  };
}

/** kube-proxy in iptables mode inside one node's netns. */
export function kubeProxySpec(l: ClusterLayout, node: NodeLayout, binDir: string): ProcessSpec {
  return {
    name: 'kube-proxy',
    binary: `${binDir}/kube-proxy`,
    args: [
      `--kubeconfig=${kubeconfigPath(l.stateDir, 'kube-proxy')}`,
      `--hostname-override=${node.name}`,
      `--bind-address=${node.ip}`,
      '--proxy-mode=iptables',
      `--cluster-cidr=${l.clusterCIDR}`,
      '--conntrack-max-per-core=0',
      '--conntrack-tcp-timeout-established=0s',
      '--conntrack-tcp-timeout-close-wait=0s',
      `--healthz-bind-address=${node.ip}:10256`,
      `--metrics-bind-address=${node.ip}:10249`,
      '--v=1',
    ],
  };
}
