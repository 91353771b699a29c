// What every part of the node emulator shares: identity, paths, API client, CNI runtime, images.
import type { KubeClient } from '../kube-client.js';
import type { CniRuntime } from '../cni.js';
import type { ImageMap } from '../images.pure.js';
import type { DnsSettings } from '../resolv-conf.pure.js';

/** The emulator's config file, written by `cluster create`. */
export interface NodeConfig {
  clusterName: string;
  nodeName: string;
  nodeIP: string;
  nodeDir: string;
  apiServerURL: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  kubernetesServiceIP: string;
  clusterDNSIP: string;
  clusterDomain: string;
  /** The node's resolv.conf, for dnsPolicy Default (the kubelet's --resolv-conf). */
  resolvConfFile: string;
  imageMapFile: string;
  repoRoot: string;
  hostMountpointsFile: string;
  cniBinDir: string;
}

export interface NodeContext {
  clusterName: string;
  nodeName: string;
  nodeIP: string;
  nodeDir: string;
  nodeRoot: string;
  kubernetesServiceIP: string;
  client: KubeClient;
  dns: DnsSettings;
  cni: CniRuntime;
  images: ImageMap;
  imageMapFile: string;
  repoRoot: string;
  hostMountpointsFile: string;
  forget(uid: string): void;
}
