#!/usr/bin/env node
// Entry point of `trellis-cni-agent`, the per-node CNI agent (a host-network DaemonSet):
//   trellis-cni-agent [flags]            run: install the plugin, redirect enrolled pods, serve ZDS
//   trellis-cni-agent uninstall [flags]  remove every redirection, the plugin and its config, then exit
//                                        (with --stay-running: then report Ready and wait for SIGTERM)
import { KubeConfig } from '@kubernetes/client-node';
import { createLifecycle, createLogger, createMetrics, helpText, wantsHelp } from '@trellis/core';
import { createServer } from 'node:http';
import { PLUGIN_EVENT_SOCKET, ENROLLED_DIR } from '../plugin-events.pure.js';
import { Installer } from '../install/installer.js';
import { pluginEntry } from '../install/conflist.pure.js';
import { detectIptablesBackend } from './backend.js';
import { agentSettings, loadAgentConfig } from './config.js';
import { HostProbes } from './host-probes.js';
import type { RulesMode } from './inpod-rules.js';
import { kubeAccess } from './kube-access.js';
import { PluginToken } from './plugin-token.js';
import { startKubeWatch } from './kube-watch.js';
import { createAgentMetrics } from './metrics.js';
import { NetnsFinder } from './netns-finder.js';
import { startPluginServer } from './plugin-server.js';
import { Redirector } from './redirector.js';
import { ZdsServer } from './zds-server.js';

async function main(): Promise<void> {
  let argv = process.argv.slice(2);
  const uninstallNow = argv[0] === 'uninstall';
  if (uninstallNow) argv = argv.slice(1);
  if (wantsHelp(argv)) {
    process.stdout.write(
      helpText(
        'trellis-cni-agent [uninstall]',
        'Installs the trellis-cni plugin on this node, redirects enrolled pods (istio.io/dataplane-mode=ambient) into ztunnel and hands their network namespaces to it over ZDS. `uninstall` removes every redirection, the plugin and its config, then exits.',
        agentSettings,
      ),
    );
    return;
  }
  const cfg = loadAgentConfig({ argv, env: process.env });
  if (!cfg.nodeName)
    throw new Error(
      'NODE_NAME (--node-name) is required: the agent redirects the pods of its own node',
    );
  const log = createLogger({ name: 'trellis-cni-agent', level: cfg.logLevel });
  const logger = log.scope('cni-agent');
  const lifecycle = createLifecycle({ logger: log.root, drainMs: 5000 });
  // Cleaned up and closed: a keep-alive socket of the Kubernetes client must not hold the exit
  // until the kubelet's SIGKILL.
  void lifecycle.done.then(() => process.exit(0));
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const api = kubeAccess(kc);
  const pluginToken = new PluginToken(api, cfg.nodeName, log.scope('install'));

  const mode: RulesMode = cfg.nativeNftables
    ? { kind: 'nftables' }
    : { kind: 'iptables', ...(await detectIptablesBackend(cfg.forceIptablesBinary)) };
  logger.info({ mode }, 'rule backend');
  const probes = new HostProbes(mode, cfg.ipv6 ? [4, 6] : [4]);
  const metricsEndpoint =
    cfg.monitoringPort >= 0 ? await createMetrics({ port: cfg.monitoringPort }) : undefined;
  if (metricsEndpoint) lifecycle.onShutdown('metrics', () => metricsEndpoint.stop());
  const metrics = metricsEndpoint
    ? createAgentMetrics(metricsEndpoint.meter('cni-agent'))
    : undefined;

  const installer = new Installer({
    pluginBinary: cfg.pluginBinary,
    binDir: cfg.mountedCniBinDir,
    netDir: cfg.mountedCniNetDir,
    confName: cfg.cniConfName,
    runDir: cfg.runDir,
    entry: pluginEntry({
      agentRunDir: cfg.pluginRunDir,
      excludeNamespaces: cfg.excludeNamespaces,
      podNamespace: cfg.podNamespace,
      logLevel: cfg.logLevel === 'trace' ? 'debug' : cfg.logLevel,
    }),
    kubeconfig: () => api.pluginKubeconfig(pluginToken.token),
    logger: log.scope('install'),
    onInstalled: (result) => metrics?.installs.add(1, { result }),
  });

  // ZDS listens only once the pods already redirected are adopted (so ztunnel's first snapshot
  // names them); until then, and when uninstalling, the redirector sees no ztunnel.
  let zds: ZdsServer | undefined = undefined;
  const redirector: Redirector = new Redirector({
    zds: {
      get connected() {
        return zds?.connected ?? false;
      },
      add: (w) => (zds ? zds.add(w) : Promise.reject(new Error('no ztunnel is connected yet'))),
      del: (uid) => zds?.del(uid) ?? Promise.resolve(),
    },
    finder: new NetnsFinder(cfg.hostProc, cfg.netnsDirs),
    mode,
    probes,
    policy: { excludeNamespaces: cfg.excludeNamespaces, systemNamespace: cfg.podNamespace },
    dnsCapture: cfg.dnsCapture,
    ipv6: cfg.ipv6,
    markerDir: `${cfg.runDir}/${ENROLLED_DIR}`,
    annotate: (ns, name, value) => api.annotate(ns, name, value),
    readPod: (ns, name) => api.readPod(ns, name),
    namespaceLabels: (name) => watchRef.current?.namespaceLabels(name),
    hostProc: cfg.hostProc,
    mountedNetnsDir: cfg.mountedNetnsDir,
    concurrency: cfg.concurrency,
    logger: log.scope('redirect'),
    ...(metrics ? { metrics } : {}),
  });
  const watchRef: { current?: Awaited<ReturnType<typeof startKubeWatch>> } = {};
  let reconciled = false;
  metrics?.observe({
    installReady: () => (installer.ready ? 1 : 0),
    ztunnelConnections: () => zds?.readyConnections ?? 0,
    podsEnrolled: () => redirector.enrolledCount,
  });

  // The shutdown hook exists from here on, so a SIGTERM during start-up (an agent deleted while
  // it starts, with UNINSTALL=true too) stops the start-up at its next step and still cleans up.
  let pluginServer: ReturnType<typeof createServer> | undefined;
  let health: ReturnType<typeof createServer> | undefined;
  let startup: Promise<void> = Promise.resolve();
  if (!uninstallNow)
    lifecycle.onShutdown('agent', async () => {
      installer.stop();
      await startup.catch(() => undefined);
      health?.close();
      pluginServer?.close();
      if (cfg.uninstall) {
        logger.info('uninstalling: removing every redirection, the plugin and its config');
        await redirector.unenrollAll();
        await probes.uninstall();
        installer.uninstall();
      } else {
        pluginToken.stop();
        await redirector.close();
      }
      zds?.close();
      await watchRef.current?.stop();
    });
  const stopping = () => lifecycle.stopping;

  const watch = await startKubeWatch(
    kc,
    cfg.nodeName,
    {
      pod: (p, deleted) => redirector.podChanged(p, deleted),
      namespace: (n) => redirector.namespaceChanged(n.metadata?.name ?? ''),
    },
    log.scope('watch'),
  );
  watchRef.current = watch;
  const pods = watch.pods();

  if (uninstallNow) {
    for (const p of pods) redirector.podChanged(p, false);
    await redirector.idle();
    await redirector.unenrollAll();
    await probes.uninstall();
    installer.uninstall();
    await watch.stop();
    await metricsEndpoint?.stop();
    logger.info('uninstalled');
    if (cfg.stayRunning && cfg.readinessPort >= 0) {
      const done = createServer((_req, res) => res.writeHead(200).end('ok\n')).listen(
        cfg.readinessPort,
      );
      lifecycle.onShutdown('uninstalled', () => void done.close());
      logger.info({ port: cfg.readinessPort }, 'node clean: Ready until stopped');
    }
    return;
  }

  const start = async (): Promise<void> => {
    const adopted = await redirector.adoptRunning(pods);
    for (const p of pods) redirector.podChanged(p, false);
    if (stopping()) return;
    zds = new ZdsServer({
      path: cfg.ztunnelSocket,
      logger: log.scope('zds'),
      snapshot: () => redirector.snapshot(),
    });
    zds.on('ready', () => redirector.enqueueAll());
    logger.info({ adopted }, 'redirected pods taken over from a previous agent');
    await probes.install();
    if (stopping()) return;
    pluginServer = await startPluginServer(
      `${cfg.runDir}/${PLUGIN_EVENT_SOCKET}`,
      redirector,
      () => installer.ready,
      log.scope('plugin-events'),
      metrics,
    );
    await pluginToken.start();
    if (stopping()) return;
    await installer.install();
    if (stopping()) return;
    installer.watch();
    await redirector.idle();
    reconciled = true;
    logger.info({ node: cfg.nodeName, enrolled: redirector.enrolledCount }, 'agent ready');
    health =
      cfg.readinessPort >= 0
        ? createServer((req, res) => {
            const ok =
              req.url === '/healthz' || (req.url === '/readyz' && reconciled && installer.ready);
            res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : 'not ready\n');
          }).listen(cfg.readinessPort)
        : undefined;
  };
  startup = start();
  await startup;
}

main().catch((err: Error) => {
  process.stderr.write(`trellis-cni-agent: ${err.message}\n`);
  process.exit(1);
});
