// trellis-cni-agent settings: flags and environment variables (Istio's install-cni names where it
// has one), parsed once.
import {
  bool,
  defineSettings,
  int,
  list,
  loadSettings,
  oneOf,
  string,
  type SettingsSource,
} from '@trellis/core';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// The package's dist directory (where its name resolves: dist/index.js), so the bundled agent
// (dist/trellis-cni-agent.mjs) finds the same files as dist/agent/main.js.
const dist = dirname(createRequire(import.meta.url).resolve('@trellis/cni'));

export const agentSettings = defineSettings({
  nodeName: {
    flag: '--node-name',
    env: 'NODE_NAME',
    default: '',
    parser: string(),
    description: "This node's name (the agent watches the pods scheduled to it); required",
  },
  podNamespace: {
    flag: '--pod-namespace',
    env: 'POD_NAMESPACE',
    default: 'istio-system',
    parser: string(),
    description: "The mesh's namespace: ztunnel pods there (label app=ztunnel) are never enrolled",
  },
  excludeNamespaces: {
    flag: '--exclude-namespaces',
    env: 'EXCLUDE_NAMESPACES',
    default: ['kube-system'],
    parser: list(),
    description:
      'Namespaces whose pods are never enrolled, whatever their labels (comma separated)',
  },
  runDir: {
    flag: '--cni-agent-run-dir',
    env: 'CNI_AGENT_RUN_DIR',
    default: '/var/run/istio-cni',
    parser: string(),
    description:
      "The agent's writable directory on the node: pluginevent.sock, the plugin's kubeconfig, enrolled-pod markers",
  },
  pluginRunDir: {
    flag: '--plugin-cni-agent-run-dir',
    env: 'PLUGIN_CNI_AGENT_RUN_DIR',
    default: '',
    parser: string(),
    description:
      'The same directory as the container runtime on the node sees it, written into the plugin config (default: --cni-agent-run-dir; the local cluster maps hostPaths under a per-node root)',
  },
  ztunnelSocket: {
    flag: '--ztunnel-uds-address',
    env: 'ZTUNNEL_UDS_ADDRESS',
    default: '/var/run/ztunnel/ztunnel.sock',
    parser: string(),
    description: 'The ZDS socket the agent listens on and ztunnel connects to',
  },
  mountedCniNetDir: {
    flag: '--mounted-cni-net-dir',
    env: 'MOUNTED_CNI_NET_DIR',
    default: '/host/etc/cni/net.d',
    parser: string(),
    description: "The node's CNI config directory as mounted in the agent",
  },
  cniConfName: {
    flag: '--cni-conf-name',
    env: 'CNI_CONF_NAME',
    default: '',
    parser: string(),
    description:
      'The primary CNI config file to chain into (default: the first .conflist/.conf by name, as the runtime picks)',
  },
  mountedCniBinDir: {
    flag: '--mounted-cni-bin-dir',
    env: 'MOUNTED_CNI_BIN_DIR',
    default: '/host/opt/cni/bin',
    parser: string(),
    description: "The node's CNI plugin directory as mounted in the agent",
  },
  pluginBinary: {
    flag: '--plugin-binary',
    env: 'CNI_PLUGIN_BINARY',
    default: join(dist, 'trellis-cni'),
    parser: string(),
    description: 'The trellis-cni single executable to copy into the CNI bin dir',
  },
  hostProc: {
    flag: '--host-proc',
    env: 'HOST_PROC',
    default: '/host/proc',
    parser: string(),
    description:
      "The node's /proc as mounted in the agent (finding running pods' network namespaces)",
  },
  mountedNetnsDir: {
    flag: '--mounted-netns-dir',
    env: 'MOUNTED_NETNS_DIR',
    default: '/host/var/run/netns',
    parser: string(),
    description:
      "The node's netns pin directory as mounted in the agent: a CNI_NETNS such as /var/run/netns/cni-<id> that the agent does not see at that path is opened here",
  },
  netnsDirs: {
    flag: '--netns-dirs',
    env: 'NETNS_DIRS',
    default: ['/var/run/netns'],
    parser: list(),
    description:
      'Directories where the runtime pins pod network namespaces (searched when no process holds one)',
  },
  dnsCapture: {
    flag: '--ambient-dns-capture',
    env: 'AMBIENT_DNS_CAPTURE',
    default: true,
    parser: bool(),
    description:
      'Send pods\' DNS (UDP and TCP 53) to ztunnel\'s DNS proxy on 15053, as Istio 1.29 does by default; one pod opts out with the annotation ambient.istio.io/dns-capture: "false"',
  },
  ipv6: {
    flag: '--ambient-ipv6',
    env: 'AMBIENT_IPV6',
    default: true,
    parser: bool(),
    description: 'Also redirect IPv6 (for pods that have an IPv6 address)',
  },
  nativeNftables: {
    flag: '--native-nftables',
    env: 'NATIVE_NFTABLES',
    default: false,
    parser: bool(),
    description: 'Program native nftables tables instead of iptables rules',
  },
  forceIptablesBinary: {
    flag: '--force-iptables-binary',
    env: 'FORCE_IPTABLES_BINARY',
    default: '',
    parser: oneOf(['', 'iptables-legacy', 'iptables-nft']),
    description: 'Use this iptables backend instead of detecting the one the node uses',
  },
  monitoringPort: {
    flag: '--monitoring-port',
    env: 'MONITORING_PORT',
    default: 15014,
    parser: int({ min: -1, max: 65535 }),
    description: 'Port of the Prometheus metrics endpoint (/metrics); -1 turns it off',
  },
  readinessPort: {
    flag: '--readiness-port',
    env: 'READINESS_PORT',
    default: 8000,
    parser: int({ min: -1, max: 65535 }),
    description:
      'Port of /healthz and /readyz (ready once installed and the first pod list is reconciled); -1 turns it off',
  },
  uninstall: {
    flag: '--uninstall',
    env: 'UNINSTALL',
    default: false,
    parser: bool(),
    description:
      'On shutdown, remove everything: the plugin, its conflist entry, every in-pod rule, host rules and annotations (the default keeps pods redirected across restarts)',
  },
  stayRunning: {
    flag: '--stay-running',
    env: 'STAY_RUNNING',
    default: false,
    parser: bool(),
    description:
      '`uninstall` only: once done, report Ready on /readyz and run until SIGTERM instead of exiting (a DaemonSet pod must not exit: trellis uninstall waits for it to be Ready on every node)',
  },
  concurrency: {
    flag: '--concurrency',
    env: 'RECONCILE_CONCURRENCY',
    default: 8,
    parser: int({ min: 1, max: 64 }),
    description: 'Pods set up or torn down at the same time',
  },
  logLevel: {
    flag: '--log-level',
    env: 'LOG_LEVEL',
    default: 'info',
    parser: oneOf(['trace', 'debug', 'info', 'warn', 'error']),
    description: 'Log level',
  },
});

export type AgentConfig = ReturnType<typeof loadAgentConfig>;

export function loadAgentConfig(source: SettingsSource) {
  const cfg = loadSettings(agentSettings, source);
  return { ...cfg, pluginRunDir: cfg.pluginRunDir || cfg.runDir };
}
