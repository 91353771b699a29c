// The `trellis` command tree: every verb, its flags and help. Handlers live in their own modules
// and are loaded only when their command runs (so --help and completion stay fast).
import type { Command, Flag } from '../cli/command-spec.js';
import { SHELLS } from '../cli/completion.pure.js';
import { OUTPUTS } from '../output/format.pure.js';
import { PROFILES, PROFILE_SUMMARY, valuesHelp } from '../manifests/values.pure.js';
import type { Handler } from './context.js';

const output = (dflt: string = 'table', values: readonly string[] = OUTPUTS): Flag => ({
  name: 'output',
  short: 'o',
  type: 'string',
  values,
  default: dflt,
  description: 'output format',
});
const timeout = (dflt: number, what: string): Flag => ({
  name: 'timeout',
  type: 'duration',
  placeholder: 'DURATION',
  default: dflt,
  description: `how long to wait for ${what} (e.g. 90s, 5m; default ${dflt / 60000}m)`,
});
const namespaceFlag = (description: string, dflt?: string): Flag => ({
  name: 'namespace',
  short: 'n',
  type: 'string',
  placeholder: 'NAMESPACE',
  description,
  ...(dflt ? { default: dflt } : {}),
});
const profile: Flag = {
  name: 'profile',
  type: 'string',
  values: PROFILES,
  default: 'default',
  description: `what to install (${PROFILES.map((p) => `${p}: ${PROFILE_SUMMARY[p]}`).join('; ')})`,
};
const set: Flag = {
  name: 'set',
  type: 'strings',
  placeholder: 'KEY=VALUE',
  description: 'change a setting (keys below)',
};
const ztunnelPod: Flag[] = [
  { name: 'node', type: 'string', placeholder: 'NODE', description: 'the ztunnel of this node' },
  {
    name: 'pod',
    type: 'string',
    placeholder: 'POD',
    description: 'this ztunnel pod (default: the first one, or the one on --node)',
  },
  {
    name: 'admin-address',
    type: 'string',
    placeholder: 'HOST:PORT',
    description: 'read a ztunnel reachable directly (one run outside a cluster) instead of a pod',
  },
  output(),
];
const proxyPod: Flag[] = [
  namespaceFlag('namespace of POD (default: the one in NAME.NAMESPACE, else default)'),
  {
    name: 'admin-address',
    type: 'string',
    placeholder: 'HOST:PORT',
    description: 'read a proxy reachable directly (one run outside a cluster) instead of a pod',
  },
  output(),
];
const waypointFor: Flag = {
  name: 'for',
  type: 'string',
  values: ['service', 'workload', 'all', 'none'],
  default: 'service',
  description: 'traffic the waypoint handles (label istio.io/waypoint-for)',
};
const waypointName: Flag = {
  name: 'name',
  type: 'string',
  placeholder: 'NAME',
  default: 'waypoint',
  description: 'waypoint (Gateway) name',
};

const clusterProvider: Flag = {
  name: 'provider',
  type: 'string',
  values: ['local', 'kind'],
  default: 'local',
  description:
    'local: a real control plane + netns nodes on this host (root, no Docker); kind: nodes in Docker containers (kind)',
};
const clusterName: Flag = {
  name: 'name',
  type: 'string',
  placeholder: 'NAME',
  default: 'trellis',
  description: 'cluster name',
};

export const ROOT: Command = {
  name: 'trellis',
  summary: 'Install, inspect and remove the Trellis ambient mesh',
  description: `Install, inspect and remove the Trellis ambient mesh.

Exit codes: 0 success; 1 the operation failed; 2 the command line is wrong; 3 a check found problems.`,
  flags: [
    {
      name: 'kubeconfig',
      type: 'string',
      placeholder: 'FILE',
      complete: 'file',
      description: 'kubeconfig of the cluster (default $KUBECONFIG, then ~/.kube/config)',
    },
    {
      name: 'context',
      type: 'string',
      placeholder: 'NAME',
      description: 'kubeconfig context to use (default: its current context)',
    },
  ],
  commands: [
    {
      name: 'install',
      summary: 'install or upgrade Trellis (server-side apply), then wait until it is Ready',
      description: `Install Trellis, or upgrade it in place, with server-side apply (field manager trellis-install),
then wait until every component is Ready, printing progress. Running it again is safe: objects are
re-applied and those a previous install had but this one does not are deleted. The Gateway API CRDs
are applied first when the cluster has none (the pinned release bundled with this CLI, or
--gateway-api-crds).

Settings (--set KEY=VALUE):
${valuesHelp()}`,
      flags: [
        profile,
        set,
        {
          name: 'gateway-api-crds',
          type: 'string',
          placeholder: 'FILE|URL',
          complete: 'file',
          description:
            'Gateway API CRDs to apply when the cluster has none (default: the bundled pinned release)',
        },
        timeout(300_000, 'every component to be Ready'),
        {
          name: 'wait',
          type: 'boolean',
          default: true,
          description: 'wait for the rollouts (--wait=false returns after applying)',
        },
        {
          name: 'dry-run',
          type: 'boolean',
          description: 'send everything as a server-side dry run; nothing changes',
        },
      ],
      examples: [
        'trellis install',
        'trellis install --kubeconfig ~/.kube/dev.yaml --profile minimal',
        'trellis install --set images.registry=ghcr.io/acme --set controlPlane.replicas=2',
      ],
    },
    {
      name: 'manifest',
      summary: 'print what install would apply',
      commands: [
        {
          name: 'generate',
          summary: 'print the objects install would apply, as YAML or JSON',
          description:
            'Print the objects trellis install would apply for this profile and these settings, without a cluster.',
          flags: [profile, set, output('yaml', ['yaml', 'json'])],
          examples: [
            'trellis manifest generate > trellis.yaml',
            'trellis manifest generate --profile minimal -o json',
          ],
        },
      ],
    },
    {
      name: 'uninstall',
      summary: 'remove Trellis, its node-side CNI config and in-pod rules (--purge: CRDs too)',
      description: `Remove everything Trellis installed: the CNI agent first (a short-lived DaemonSet removes the CNI
config entry, the plugin and the in-pod rules and annotations on every node), then ztunnel, the
control plane, RBAC, the root-certificate ConfigMaps and namespace trellis-system. Policies and
waypoints you created are kept unless --purge is given, which also deletes the
security.istio.io and DestinationRule CRDs (and with them every policy), waypoint Gateways, and the Gateway API CRDs
when trellis install applied them.`,
      flags: [
        {
          name: 'purge',
          type: 'boolean',
          description: 'also delete the CRDs, every policy and waypoint',
        },
        timeout(300_000, 'node cleanup and deletion'),
      ],
    },
    {
      name: 'precheck',
      summary: 'check what would stop an install (versions, an Istio install, permissions, nodes)',
      flags: [output()],
    },
    {
      name: 'status',
      aliases: ['verify-install'],
      summary: 'check that every component is installed, current and Ready (alias verify-install)',
      flags: [output()],
    },
    {
      name: 'ztunnel-config',
      summary: "show a ztunnel's workloads, services, policies, certificates or connections",
      description:
        'Show what one ztunnel holds, read from its admin endpoint (localhost:15000 in the ztunnel pod,\nreached through a port-forward) or its metrics (connections).',
      commands: [
        {
          name: 'workloads',
          summary: 'workloads the ztunnel knows, with their identity and protocol',
          flags: [...ztunnelPod, namespaceFlag('only workloads of this namespace')],
        },
        {
          name: 'services',
          summary: 'services with their VIPs, ports and endpoints',
          flags: [...ztunnelPod, namespaceFlag('only services of this namespace')],
        },
        {
          name: 'policies',
          summary: 'L4 authorization policies',
          flags: [...ztunnelPod, namespaceFlag('only policies of this namespace')],
        },
        {
          name: 'certificates',
          summary: 'workload certificates the ztunnel holds, with expiry',
          flags: ztunnelPod,
        },
        {
          name: 'connections',
          summary: 'TCP connections by source and destination workload (from metrics)',
          flags: ztunnelPod,
        },
      ],
    },
    {
      name: 'proxy-config',
      aliases: ['pc'],
      summary:
        "show a waypoint's or gateway's listeners, routes, clusters, endpoints or certificates (alias pc)",
      description:
        'Show the Envoy configuration one waypoint or ingress gateway accepted, read from its admin\nendpoint (localhost:15000 in its pod, reached through a port-forward), as istioctl proxy-config\ndoes. POD is NAME, NAME.NAMESPACE, deploy/NAME or gateway/NAME (a pod of that Gateway).\n-o json|yaml prints the Envoy resources. For a ztunnel, use trellis ztunnel-config.',
      commands: [
        {
          name: 'listeners',
          summary: 'filter chains: what each matches and where it goes',
          args: 'POD',
          maxArgs: 1,
          flags: proxyPod,
        },
        {
          name: 'routes',
          summary: 'routes of each route configuration: match and action',
          args: 'POD',
          maxArgs: 1,
          flags: proxyPod,
        },
        {
          name: 'clusters',
          summary: 'clusters (upstream services) with type and load balancing',
          args: 'POD',
          maxArgs: 1,
          flags: proxyPod,
        },
        {
          name: 'endpoints',
          summary: 'hosts of every cluster: health, outlier ejection, weight, identity',
          args: 'POD',
          maxArgs: 1,
          flags: proxyPod,
        },
        {
          name: 'secret',
          summary: 'the workload certificate and the TLS certificates the proxy holds',
          args: 'POD',
          maxArgs: 1,
          flags: proxyPod,
        },
        {
          name: 'all',
          summary: 'every view above (-o json|yaml: the whole /config_dump)',
          args: 'POD',
          maxArgs: 1,
          flags: proxyPod,
        },
        {
          name: 'log',
          summary: 'show the log levels, or change them with --level',
          args: 'POD',
          maxArgs: 1,
          flags: [
            ...proxyPod.filter((f) => f.name !== 'output'),
            {
              name: 'level',
              type: 'string',
              placeholder: 'LEVEL|SCOPE:LEVEL,...',
              description:
                'set the level (trace, debug, info, warn, error) of everything or of scopes, e.g. debug or rbac:debug,router:info; SCOPE:default resets one',
            },
          ],
          examples: ['trellis proxy-config log deploy/waypoint -n shop --level rbac:debug'],
        },
      ],
      examples: [
        'trellis proxy-config routes deploy/waypoint -n shop',
        'trellis pc endpoints waypoint-7d9f8c-x2x4q.shop',
        'trellis proxy-config listeners gateway/ingress -n shop -o yaml',
      ],
    },
    {
      name: 'proxy-status',
      summary: 'each proxy connected to the control plane: what it ACKed, what is stale',
      flags: [output()],
    },
    {
      name: 'waypoint',
      summary: 'generate, apply, list, delete waypoints (Gateways of class trellis-waypoint)',
      commands: [
        {
          name: 'generate',
          summary: 'print a waypoint Gateway',
          flags: [
            waypointName,
            namespaceFlag('namespace of the waypoint', 'default'),
            waypointFor,
            output('yaml', ['yaml', 'json']),
          ],
        },
        {
          name: 'apply',
          summary: 'create or update a waypoint and wait until it is Programmed',
          flags: [
            waypointName,
            namespaceFlag('namespace of the waypoint', 'default'),
            waypointFor,
            {
              name: 'enroll-namespace',
              type: 'boolean',
              description: 'label the namespace istio.io/use-waypoint=NAME so its services use it',
            },
            timeout(120_000, 'the waypoint to be Programmed'),
            {
              name: 'wait',
              type: 'boolean',
              default: true,
              description: 'wait until the waypoint is Programmed',
            },
          ],
          examples: ['trellis waypoint apply -n shop --enroll-namespace'],
        },
        {
          name: 'list',
          summary: 'list waypoints',
          flags: [
            namespaceFlag('only this namespace'),
            {
              name: 'all-namespaces',
              short: 'A',
              type: 'boolean',
              description: 'every namespace (the default without -n)',
            },
            output(),
          ],
        },
        {
          name: 'delete',
          summary: 'delete waypoints (and the use-waypoint label of namespaces that name them)',
          args: '[NAME...]',
          flags: [
            namespaceFlag('namespace of the waypoints', 'default'),
            { name: 'all', type: 'boolean', description: 'every waypoint of the namespace' },
          ],
        },
        {
          name: 'status',
          summary: 'conditions of a waypoint and what uses it',
          flags: [waypointName, namespaceFlag('namespace of the waypoint', 'default'), output()],
        },
      ],
    },
    {
      name: 'analyze',
      summary: 'find mistakes users trip on, each with a fix',
      description: `Find mistakes in the cluster's mesh configuration, each with a fix:
- a policy whose selector or targetRef matches nothing;
- istio.io/use-waypoint naming a waypoint that does not exist;
- a route whose backend Service does not exist;
- PeerAuthentication STRICT while pods outside the mesh call the workloads it covers;
- a namespace enrolled while the CNI agent is not running on a node that has its pods.`,
      flags: [namespaceFlag('only this namespace'), output()],
    },
    {
      name: 'x',
      summary: 'experimental commands',
      commands: [
        {
          name: 'translate',
          summary:
            'print the WDS and Envoy xDS the control plane would serve for manifests, offline',
          description: `Translate Kubernetes manifests (pods, services, namespaces, policies, Gateways, routes) into the
resources the control plane would serve, with the same code it runs, without a cluster:
the WDS Addresses and Authorizations for ztunnels, and the Envoy Listeners, Routes, Clusters and
Endpoints for each waypoint and ingress gateway (whose SDS Secrets are listed by name only).`,
          flags: [
            {
              name: 'filename',
              short: 'f',
              type: 'strings',
              placeholder: 'FILE',
              complete: 'file',
              description: 'a YAML or JSON manifest file (- for stdin)',
            },
            {
              name: 'type',
              type: 'string',
              values: ['all', 'wds', 'waypoint', 'gateway', 'proxyless'],
              default: 'all',
              description: 'which resources to print',
            },
            {
              name: 'root-namespace',
              type: 'string',
              placeholder: 'NAMESPACE',
              default: 'trellis-system',
              description:
                'namespace whose policies apply mesh-wide (as the installed control plane)',
            },
            {
              name: 'trust-domain',
              type: 'string',
              placeholder: 'DOMAIN',
              default: 'cluster.local',
              description: 'SPIFFE trust domain',
            },
            {
              name: 'cluster-id',
              type: 'string',
              placeholder: 'NAME',
              default: 'Kubernetes',
              description: 'cluster name in workload names',
            },
            output('yaml', ['yaml', 'json']),
          ],
          examples: [
            'trellis x translate -f app.yaml -f policy.yaml',
            'kubectl get pods,svc,ns -A -o yaml | trellis x translate -f - --type wds',
          ],
        },
      ],
    },
    {
      name: 'cluster',
      summary:
        'create, delete and list clusters: local (real Kubernetes, netns nodes, no Docker) or kind',
      commands: [
        {
          name: 'create',
          summary:
            'create a cluster and wait until its nodes are Ready; prints the kubeconfig path',
          description:
            'kind: one control-plane node and N-1 workers in Docker containers on their own Docker network (kind-NAME), the kubeconfig in ~/.kube/kind-NAME.yaml; Docker must run (on a host without it: tools/docker-here.sh start && eval "$(tools/docker-here.sh env)"). ' +
            "LoadBalancer Services get a working address: a load-balancer controller on this host assigns one from --lb-range, writes it to status.loadBalancer.ingress and routes it from this host to the nodes (kube-proxy takes it to the endpoints; externalTrafficPolicy Local routes only to nodes with a ready endpoint and keeps the client address). The address is released when the Service is deleted or changes type; `cluster delete` stops the controller and removes the routes. On kind it routes over the kind network's bridge, which needs a Linux host and root; elsewhere (Docker Desktop, rootless Docker) the cluster gets none and says so: run cloud-provider-kind there.",
          flags: [
            clusterProvider,
            clusterName,
            {
              name: 'nodes',
              type: 'int',
              min: 1,
              max: 50,
              default: 2,
              description: 'number of nodes',
            },
            {
              name: 'lb-range',
              type: 'string',
              placeholder: 'CIDR|A-B',
              description:
                "addresses for LoadBalancer Services, an IPv4 CIDR or range (default, local: 172.28.<slot>.192/26, the top of the cluster's own node network; kind: the top quarter of the kind network's subnet, at most a /24, e.g. 172.18.255.0/24, which Docker hands to containers last); must stay off the host's routes, the cluster's node addresses and every other cluster's ranges",
            },
            {
              name: 'image',
              type: 'string',
              placeholder: 'IMAGE',
              description:
                "kind only: the node image (default: trellis/kind-node:<pinned Kubernetes version> when Docker has it, built offline by tools/kind-node/build.sh; else kind's default kindest/node)",
            },
            {
              name: 'load-images',
              type: 'boolean',
              default: true,
              description:
                "kind only: load the mesh images trellis install runs (trellis/control-plane, ztunnel, waypoint, cni at this CLI's version, built by deploy/images/build.sh) into the nodes with `kind load docker-image`; --load-images=false skips it",
            },
          ],
          examples: [
            'trellis cluster create --name dev --nodes 2',
            'trellis cluster create --name dev --lb-range 10.200.0.0/28',
            'trellis cluster create --provider kind --name dev --nodes 2',
          ],
        },
        {
          name: 'delete',
          summary: 'delete a cluster and everything it created on this host',
          flags: [clusterProvider, clusterName],
        },
        { name: 'list', summary: 'list clusters', flags: [clusterProvider] },
        {
          name: 'kubeconfig',
          summary: 'print the admin kubeconfig of a cluster',
          flags: [
            clusterProvider,
            clusterName,
            {
              name: 'path',
              type: 'boolean',
              description: 'print the file path instead of the content',
            },
          ],
        },
      ],
    },
    {
      name: 'completion',
      summary: 'print a shell completion script (bash, zsh, fish)',
      args: 'SHELL',
      minArgs: 1,
      maxArgs: 1,
      description: `Print the completion script for a shell. Load it with:
  bash:  source <(trellis completion bash)
  zsh:   source <(trellis completion zsh)
  fish:  trellis completion fish | source
Shells: ${SHELLS.join(', ')}.`,
    },
    {
      name: 'version',
      summary: 'print the version of this CLI and of the installed control plane',
      flags: [output()],
    },
  ],
};

/** The handler of each runnable command path, loaded on demand. */
export const HANDLERS: Record<string, () => Promise<Handler>> = {
  install: async () => (await import('./install.js')).install,
  'manifest generate': async () => (await import('./manifest.js')).manifestGenerate,
  uninstall: async () => (await import('./uninstall.js')).uninstall,
  precheck: async () => (await import('./precheck.js')).precheck,
  status: async () => (await import('./status.js')).status,
  'ztunnel-config workloads': async () => (await import('./ztunnel-config.js')).ztunnelConfig,
  'ztunnel-config services': async () => (await import('./ztunnel-config.js')).ztunnelConfig,
  'ztunnel-config policies': async () => (await import('./ztunnel-config.js')).ztunnelConfig,
  'ztunnel-config certificates': async () => (await import('./ztunnel-config.js')).ztunnelConfig,
  'ztunnel-config connections': async () => (await import('./ztunnel-config.js')).ztunnelConfig,
  'proxy-config listeners': async () => (await import('./proxy-config.js')).proxyConfig,
  'proxy-config routes': async () => (await import('./proxy-config.js')).proxyConfig,
  'proxy-config clusters': async () => (await import('./proxy-config.js')).proxyConfig,
  'proxy-config endpoints': async () => (await import('./proxy-config.js')).proxyConfig,
  'proxy-config secret': async () => (await import('./proxy-config.js')).proxyConfig,
  'proxy-config all': async () => (await import('./proxy-config.js')).proxyConfig,
  'proxy-config log': async () => (await import('./proxy-config.js')).proxyConfig,
  'proxy-status': async () => (await import('./proxy-status.js')).proxyStatus,
  'waypoint generate': async () => (await import('./waypoint.js')).waypointGenerate,
  'waypoint apply': async () => (await import('./waypoint.js')).waypointApply,
  'waypoint list': async () => (await import('./waypoint.js')).waypointList,
  'waypoint delete': async () => (await import('./waypoint.js')).waypointDelete,
  'waypoint status': async () => (await import('./waypoint.js')).waypointStatus,
  analyze: async () => (await import('./analyze.js')).analyze,
  'x translate': async () => (await import('./translate.js')).translate,
  'cluster create': async () => (await import('./cluster.js')).cluster,
  'cluster delete': async () => (await import('./cluster.js')).cluster,
  'cluster list': async () => (await import('./cluster.js')).cluster,
  'cluster kubeconfig': async () => (await import('./cluster.js')).cluster,
  completion: async () => (await import('./completion.js')).completion,
  version: async () => (await import('./version.js')).version,
};
