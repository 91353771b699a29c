#!/usr/bin/env node
// The node emulator: one process per node, inside the node's network namespace. Usage:
//   node dist/node-emulator/main.js <config.json>
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeRShared } from './mount-plan.js';
import { KubeClient, type Obj } from '../kube-client.js';
import { parseImageMap } from '../images.pure.js';
import { NodeAgent } from './node-agent.js';
import { startKubeletServer } from './kubelet-server.js';
import { KubeletAuth } from './kubelet-auth.js';
import { PodWorker, type SavedPod } from './pod-worker.js';
import type { NodeConfig, NodeContext } from './context.js';

const USAGE = `Usage: trellis-node-emulator <config.json>

The node emulator of a local cluster: registers one Node, runs the pods bound to it as processes in
their own network namespaces, serves the kubelet API. trellis cluster create starts one per node
with the config it writes; it is not meant to be started by hand.
`;

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === '--help' || file === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  if (!file) throw new Error(`no config file given\n${USAGE}`);
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as NodeConfig;
  const client = KubeClient.fromFiles(cfg.apiServerURL, cfg.caFile, cfg.certFile, cfg.keyFile);
  const workers = new Map<string, PodWorker>();
  const nodeRoot = `${cfg.nodeDir}/root`;
  await mkdir(nodeRoot, { recursive: true });
  // hostPath volumes live here: shared, so mountPropagation works for them as on a real node.
  await makeRShared(cfg.nodeDir);
  const ctx: NodeContext = {
    clusterName: cfg.clusterName,
    nodeName: cfg.nodeName,
    nodeIP: cfg.nodeIP,
    nodeDir: cfg.nodeDir,
    nodeRoot,
    kubernetesServiceIP: cfg.kubernetesServiceIP,
    client,
    dns: {
      clusterDNS: [cfg.clusterDNSIP],
      clusterDomain: cfg.clusterDomain,
      nodeResolvConf: existsSync(cfg.resolvConfFile)
        ? readFileSync(cfg.resolvConfFile, 'utf8')
        : '',
    },
    // hostPath /etc/cni/net.d and /opt/cni/bin of pods on this node land in the node root, so a
    // CNI installer DaemonSet chains its plugin into this very config.
    cni: {
      confDir: `${nodeRoot}/etc/cni/net.d`,
      binDirs: [`${nodeRoot}/opt/cni/bin`, cfg.cniBinDir],
      cacheDir: `${cfg.nodeDir}/cni-cache`,
      // Plugins see the node's directories at the host paths, as in a node's mount namespace.
      nodeFs: {
        root: nodeRoot,
        hostPathsFile: `${cfg.nodeDir}/host-paths`,
        hostMountpointsFile: cfg.hostMountpointsFile,
        keepVisible: [cfg.nodeDir, cfg.repoRoot, cfg.cniBinDir, dirname(process.execPath)],
      },
    },
    images: parseImageMap(readFileSync(cfg.imageMapFile, 'utf8'), cfg.imageMapFile),
    imageMapFile: cfg.imageMapFile,
    repoRoot: cfg.repoRoot,
    hostMountpointsFile: cfg.hostMountpointsFile,
    forget: (uid) => workers.delete(uid),
  };
  const abort = new AbortController();
  const version = await client.get('/version');
  const agent = new NodeAgent(ctx, version.gitVersion);
  await agent.register();
  void agent.heartbeat(abort.signal);
  const podOnNode = (ns: string, name: string, uid?: string) => {
    const w = [...workers.values()].find((x) => x.matches(ns, name, uid));
    return w ?? { error: `pod ${ns}/${name} is not running on ${cfg.nodeName}`, status: 404 };
  };
  const kubelet = await startKubeletServer({
    ip: cfg.nodeIP,
    port: 10250,
    certFile: cfg.servingCertFile,
    keyFile: cfg.servingKeyFile,
    caFile: cfg.caFile,
    auth: new KubeletAuth(client, cfg.nodeName),
    backend: {
      logFile: (ns, name, container, previous) => {
        const w = podOnNode(ns, name);
        return 'error' in w ? w : w.logFile(container, previous);
      },
      container: (ns, name, container, uid) => {
        const w = podOnNode(ns, name, uid);
        return 'error' in w ? w : w.container(container);
      },
      pod: (ns, name, uid) => {
        const w = podOnNode(ns, name, uid);
        return 'error' in w ? w : w.portForwardTarget();
      },
    },
  });
  await agent.becomeReady(abort.signal);
  console.log(`node ${cfg.nodeName} ready`);

  const onPod = (type: string, pod: Obj) => {
    const uid: string = pod.metadata.uid;
    const w = workers.get(uid);
    if (type === 'DELETED') {
      if (w) void w.terminate(0, false);
      return;
    }
    if (w) {
      w.update(pod);
      return;
    }
    if (
      pod.metadata.deletionTimestamp ||
      pod.status?.phase === 'Succeeded' ||
      pod.status?.phase === 'Failed'
    ) {
      if (pod.metadata.deletionTimestamp) {
        void client
          .req('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, {
            gracePeriodSeconds: 0,
            preconditions: { uid },
          })
          .catch(() => undefined);
      }
      return;
    }
    const worker = new PodWorker(ctx, pod);
    workers.set(uid, worker);
    void worker.start();
  };
  // Pods this node already runs (the emulator restarted): adopt them before watching.
  const podsDir = `${cfg.nodeDir}/pods`;
  const listed = (await client.get(`/api/v1/pods?fieldSelector=spec.nodeName%3D${cfg.nodeName}`))
    .items as Obj[];
  const savedDirs = new Map(
    (existsSync(podsDir) ? readdirSync(podsDir) : []).map((d) => [d.split('_').at(-1)!, d]),
  );
  for (const pod of listed) {
    const dir = savedDirs.get(pod.metadata.uid);
    const saved = dir ? readSaved(`${podsDir}/${dir}`) : undefined;
    if (!dir) continue;
    savedDirs.delete(pod.metadata.uid);
    if (!saved) continue;
    const worker = new PodWorker(ctx, pod);
    workers.set(pod.metadata.uid, worker);
    await worker.adopt(saved);
    worker.update(pod);
  }
  // What is left belongs to pods deleted while the emulator was down: tear it down.
  for (const [uid, dir] of savedDirs) {
    const [namespace, name] = dir.split('_');
    console.log(
      `pod ${namespace}/${name}: gone from the API while the node emulator was down; cleaning up`,
    );
    const orphan = new PodWorker(ctx, {
      metadata: { namespace, name, uid },
      spec: { containers: [] },
    });
    await orphan.terminate(0, false, readSaved(`${podsDir}/${dir}`));
  }
  void client.listWatch(
    `/api/v1/pods?fieldSelector=spec.nodeName%3D${cfg.nodeName}`,
    (e) => onPod(e.type, e.object),
    abort.signal,
  );

  // Like a kubelet, stopping the emulator leaves the pods running; a restarted one adopts them.
  const shutdown = () => {
    abort.abort();
    kubelet.close();
    client.close();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

function readSaved(dir: string): SavedPod | undefined {
  try {
    return JSON.parse(readFileSync(`${dir}/state.json`, 'utf8')) as SavedPod;
  } catch {
    return undefined;
  }
}

main().catch((e) => {
  console.error(`node emulator: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
