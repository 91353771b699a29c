// A one-node local cluster with the Trellis CNI pieces as they run for real: the agent as a
// host-network DaemonSet pod (image trellis/cni:dev) that chains the single-executable plugin into
// the node's conflist (which the node emulator runs for every pod, as a runtime does), and
// trellis-control-plane (cluster mode: WDS from the cluster, its CA with static tokens) plus
// trellis-ztunnel as processes in the node's netns, ztunnel on the agent's ZDS socket. Used by the
// CNI cluster test and the CNI benchmark.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCluster,
  deleteCluster,
  kubeBinDir,
  kubectlFor,
  requireKubeBinaries,
  type ClusterInfo,
  type Kubectl,
} from '@trellis/local-cluster';
import { eventually, START_TIMEOUT_MS } from '@trellis/core/test-support';
import { startControlPlaneIn, ZtunnelProcess, type CaProcess } from './mesh-processes.js';
import type { Node } from './netns-cluster.js';

export const CNI_SYSTEM_NAMESPACE = 'trellis-system';
export const AGENT_LABEL = 'app=trellis-cni-node';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

/** The agent's namespace, RBAC and DaemonSet (hostPaths as Istio's istio-cni-node mounts them). */
export function cniAgentManifests(extraEnv: Obj[] = []): Obj[] {
  const SYSTEM = CNI_SYSTEM_NAMESPACE;
  const labels = { app: 'trellis-cni-node' };
  const hostPath = (name: string, path: string, mountPath = path, extra = {}) => ({
    volume: { name, hostPath: { path } },
    mount: { name, mountPath, ...extra },
  });
  const mounts = [
    hostPath('cni-net-dir', '/etc/cni/net.d', '/host/etc/cni/net.d'),
    hostPath('cni-bin-dir', '/opt/cni/bin', '/host/opt/cni/bin'),
    hostPath('run-dir', '/var/run/istio-cni'),
    hostPath('ztunnel-dir', '/var/run/ztunnel'),
    hostPath('host-proc', '/proc', '/host/proc'),
    // As Istio's: pod netns pinned after the agent started must appear in its mount namespace.
    hostPath('netns', '/var/run/netns', '/var/run/netns', { mountPropagation: 'HostToContainer' }),
  ];
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM } },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'trellis-cni', namespace: SYSTEM },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'trellis-cni' },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods/status'], verbs: ['patch'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'trellis-cni' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'trellis-cni' },
      subjects: [{ kind: 'ServiceAccount', name: 'trellis-cni', namespace: SYSTEM }],
    },
    {
      // A node-bound token for the plugin, valid while the agent pod is away.
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'trellis-cni-token', namespace: SYSTEM },
      rules: [
        {
          apiGroups: [''],
          resources: ['serviceaccounts/token'],
          resourceNames: ['trellis-cni'],
          verbs: ['create'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'trellis-cni-token', namespace: SYSTEM },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'trellis-cni-token' },
      subjects: [{ kind: 'ServiceAccount', name: 'trellis-cni', namespace: SYSTEM }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'trellis-cni-node', namespace: SYSTEM },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            serviceAccountName: 'trellis-cni',
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: 'agent',
                image: 'trellis/cni:dev',
                env: [
                  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                  { name: 'POD_NAMESPACE', value: SYSTEM },
                  { name: 'LOG_LEVEL', value: 'debug' },
                  ...extraEnv,
                ],
                volumeMounts: mounts.map((m) => m.mount),
                readinessProbe: { httpGet: { path: '/readyz', port: 8000 }, periodSeconds: 1 },
              },
            ],
            volumes: mounts.map((m) => m.volume),
          },
        },
      },
    },
  ];
}

export class CniCluster {
  readonly kc: Kubectl;
  readonly node: Node;
  /** The node's hostPath root (its /etc/cni/net.d, /opt/cni/bin, /var/run/... are under it). */
  readonly nodeRoot: string;
  readonly nodesDir: string;
  /** A scratch dir for this run (tokens, resolv.conf, captures). */
  readonly dir: string;
  controlPlane: CaProcess | undefined;
  ztunnel: ZtunnelProcess | undefined;

  private constructor(
    readonly name: string,
    readonly info: ClusterInfo,
  ) {
    this.kc = kubectlFor(info.kubeconfig);
    const nodeName = `${name}-node1`;
    this.nodesDir = `${info.stateDir}/nodes`;
    this.nodeRoot = `${this.nodesDir}/${nodeName}/root`;
    const ip = this.kc
      .getJson('node', nodeName)
      .status.addresses.find((a: Obj) => a.type === 'InternalIP').address;
    this.node = {
      index: 1,
      name: nodeName,
      netns: `trellis.${name}.node1`,
      ip,
      podCidr: '',
      pods: [],
    };
    this.dir = mkdtempSync(join(tmpdir(), `trellis-cni-${process.pid}-`));
  }

  static async create(name: string): Promise<CniCluster> {
    requireKubeBinaries(kubeBinDir());
    const info = await createCluster({ name, nodes: 1 });
    try {
      return new CniCluster(name, info);
    } catch (err) {
      await deleteCluster(name, { quiet: true });
      throw err;
    }
  }

  get conflistPath(): string {
    return `${this.nodeRoot}/etc/cni/net.d/10-trellis.conflist`;
  }

  /** Applies the agent manifests and waits until the plugin is chained last into the conflist. */
  async deployAgent(extraEnv: Obj[] = []): Promise<void> {
    this.kc.apply(cniAgentManifests(extraEnv));
    await eventually(
      'the agent to chain trellis-cni into the node conflist',
      () => {
        const doc = existsSync(this.conflistPath)
          ? JSON.parse(readFileSync(this.conflistPath, 'utf8'))
          : undefined;
        return doc?.plugins?.at(-1)?.type === 'trellis-cni' &&
          existsSync(`${this.nodeRoot}/opt/cni/bin/trellis-cni`)
          ? true
          : undefined;
      },
      START_TIMEOUT_MS,
    );
  }

  agentPods(): Obj[] {
    return this.kc.getJson('pods', '-n', CNI_SYSTEM_NAMESPACE, '-l', AGENT_LABEL).items;
  }

  /**
   * Starts the control plane and ztunnel. `identities` are the namespace/service accounts of pods
   * on the node: with static tokens the CA learns from that list who runs where.
   */
  async startMesh(identities: { namespace: string; serviceAccount: string }[]): Promise<void> {
    const tokens = [
      {
        token: `zt-${this.name}`,
        namespace: CNI_SYSTEM_NAMESPACE,
        serviceAccount: 'ztunnel',
        node: this.node.name,
      },
      ...identities.map((id, i) => ({ token: `id${i}-${this.name}`, ...id, node: this.node.name })),
    ];
    writeFileSync(join(this.dir, 'tokens.json'), JSON.stringify(tokens));
    writeFileSync(join(this.dir, 'ztunnel.token'), `zt-${this.name}`);
    // ztunnel's DNS proxy forwards to the cluster DNS, as ztunnel's resolv.conf would say in a pod.
    const dns = this.kc.getJson('service', '-n', 'kube-system', 'kube-dns').spec.clusterIP;
    writeFileSync(join(this.dir, 'ztunnel-resolv.conf'), `nameserver ${dns}\n`);
    this.controlPlane = await startControlPlaneIn(this.node, {
      dir: this.dir,
      tokensPath: join(this.dir, 'tokens.json'),
      kubeconfig: this.info.kubeconfig,
      systemNamespace: CNI_SYSTEM_NAMESPACE,
      readRoot: () =>
        this.kc.tryGet('configmap', '-n', CNI_SYSTEM_NAMESPACE, 'istio-ca-root-cert')?.data?.[
          'root-cert.pem'
        ],
    });
    await this.startZtunnel();
  }

  /** (Re)starts ztunnel and waits until it is ready. */
  async startZtunnel(): Promise<ZtunnelProcess> {
    this.ztunnel = new ZtunnelProcess(this.node, {
      dnsResolvConf: join(this.dir, 'ztunnel-resolv.conf'),
      ca: this.controlPlane!,
      tokenPath: join(this.dir, 'ztunnel.token'),
      podNamespace: CNI_SYSTEM_NAMESPACE, // its token's, as the install runs it
      zdsSocket: `${this.nodeRoot}/var/run/ztunnel/ztunnel.sock`,
      workers: 1,
      drainMs: 500,
    });
    await this.ztunnel.ready();
    return this.ztunnel;
  }

  /** Stops everything and deletes the cluster; the logs of the agents, ztunnel and the control
   * plane stay in /tmp (trellis-cni-<what>-<pid>.log) for whoever reads a failure. */
  async delete(): Promise<void> {
    const pods = `${this.nodesDir}/${this.node.name}/pods`;
    if (existsSync(pods))
      execFileSync('sh', [
        '-c',
        `tail -n 2000 ${pods}/${CNI_SYSTEM_NAMESPACE}_*/logs/agent/*.log > ${tmpdir()}/trellis-cni-agent-${process.pid}.log 2>&1 || true`,
      ]);
    for (const [what, p] of [
      ['ztunnel', this.ztunnel?.proc],
      ['control-plane', this.controlPlane?.proc],
    ] as const)
      if (p)
        writeFileSync(
          `${tmpdir()}/trellis-cni-${what}-${process.pid}.log`,
          p.lines.map((l) => JSON.stringify(l)).join('\n'),
        );
    await this.ztunnel?.stop('SIGKILL').catch(() => undefined);
    await this.controlPlane?.proc.stop('SIGKILL').catch(() => undefined);
    await deleteCluster(this.name, { quiet: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
