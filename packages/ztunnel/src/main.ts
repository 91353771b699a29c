#!/usr/bin/env node
// trellis-ztunnel: the state store (from --local-config or WDS), the identity manager, the proxies
// (--proxy-mode shared: one set per pod, started by the ZDS client; dedicated: one workload's set in
// this netns; all-workloads: one set in this netns for every workload),
// admin, metrics, readiness, and a graceful drain on SIGTERM. With --workers N > 1 this process is
// the primary: it keeps all of that but the connections, which N forked workers carry (workers/).
import { openSync, readFileSync } from 'node:fs';
import {
  ConfigError,
  createLifecycle,
  isLoopbackIp,
  createLogger,
  createMetricsRegistry,
  helpText,
  wantsHelp,
  type HostPort,
  type Log,
} from '@trellis/core';
import { loggerSink } from './access-log/sink.js';
import { createAdminServer } from './admin/admin-server.js';
import { listen } from './admin/listen.js';
import { createMetricsServer } from './admin/metrics-server.js';
import { Readiness } from './admin/readiness.js';
import { createReadinessServer } from './admin/readiness-server.js';
import { loadZtunnelConfig, processSource, PROGRAM, SUMMARY, ztunnelSettings } from './config.js';
import { createDnsMetrics } from './dns/metrics.js';
import { withDnsProxy } from './dns/pod-dns.js';
import { createCaIdentityManager } from './identity/identity-manager.js';
import { WorkloadIdentities } from './identity/unused-identities.js';
import type { PodSpec } from './inpod/pod-manager.js';
import { startInpod } from './inpod/start-inpod.js';
import { createTrafficMetrics } from './metrics.js';
import { createZtunnelContext, type ZtunnelContext } from './proxy/context.js';
import { startProxySet, startAllWorkloadsProxySet, type ProxySet } from './proxy/proxy-set.js';
import { createHostSocketOps, type SocketOps } from './proxy/socket-ops.js';
import { LocalConfigError } from './state/local-config.js';
import { LocalConfigFile } from './state/local-config-file.js';
import { StateStore } from './state/store.js';
import { startDispatchedPodSet, startDispatchedAllWorkloadsSet } from './workers/dispatched-set.js';
import { WorkerPool } from './workers/worker-pool.js';
import { xdsCredentials } from './xds/credentials.js';
import { startXdsSource, ztunnelNodeId } from './xds/xds-source.js';

const hp = (a: HostPort) => `${a.host || '0.0.0.0'}:${a.port}`;
const listenAt = (a: HostPort) => ({ host: a.host || '0.0.0.0', port: a.port });

function readRoot(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`--ca-root-cert ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The log, with every level change also sent to the workers. */
function forwardingLog(log: Log, onChange: () => void): Log {
  return {
    root: log.root,
    scope: (name) => log.scope(name),
    levels: () => log.levels(),
    setLevel(level) {
      log.setLevel(level);
      onChange();
    },
    setScopeLevel(scope, level) {
      log.setScopeLevel(scope, level);
      onChange();
    },
  };
}

async function main(): Promise<void> {
  const source = processSource();
  if (wantsHelp(source.argv)) {
    process.stdout.write(helpText(PROGRAM, SUMMARY, ztunnelSettings));
    return;
  }
  const config = loadZtunnelConfig(source);
  const log = createLogger({ name: PROGRAM, level: config.logLevel.level });
  for (const [scope, level] of Object.entries(config.logLevel.scopes))
    log.setScopeLevel(scope, level);
  const logger = log.scope('ztunnel');
  // Scopes made later (on SIGHUP) exist from the start, so /logging can set them beforehand.
  const localConfigLog = log.scope('local-config');
  const lifecycle = createLifecycle({ logger: log.root, drainMs: config.drainTimeout });

  const store = new StateStore({ network: config.network });
  const dedicated = config.proxyMode === 'dedicated' ? config.proxyWorkloadInfo! : undefined;
  const readiness = new Readiness();
  const initialConfig = readiness.block('initial config');
  const registry = createMetricsRegistry();
  lifecycle.onShutdown('metrics registry', () => registry.close());

  // Both modes: the identity manager (certificates from the CA); workers ask it over IPC.
  const ids = createCaIdentityManager({
    caAddress: hp(config.caAddress),
    rootPem: readRoot(config.caRootCert),
    trustDomain: config.trustDomain,
    token: config.tokenPath,
    // Dedicated: the token is the workload's, and so is the identity asked for without impersonation.
    ownIdentity: dedicated
      ? `spiffe://${config.trustDomain}/ns/${dedicated.namespace}/sa/${dedicated.serviceAccount}`
      : `spiffe://${config.trustDomain}/ns/${config.podNamespace}/sa/${config.serviceAccount}`,
    clusterId: config.clusterId,
    meter: registry.meter('identity'),
    logger: log.scope('identity'),
  });
  const pool =
    config.workers > 1
      ? new WorkerPool({
          size: config.workers,
          argv: source.argv,
          store,
          identity: ids,
          readiness,
          logger: log.scope('workers'),
          logLevels: () => log.levels(),
        })
      : undefined;
  const forget = (identity: string) => {
    ids.forget(identity);
    pool?.forget(identity);
  };

  const metricsServer = createMetricsServer(async () => [
    await registry.text(),
    ...(pool ? await pool.scrape() : []),
  ]);
  const metricsPort = await listen(metricsServer, config.metricsAddress);
  lifecycle.onShutdown('metrics', async () => {
    const closed = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    metricsServer.closeAllConnections();
    await closed;
  });
  const admin = createAdminServer({
    store,
    log: pool ? forwardingLog(log, () => pool.logLevels(log.levels())) : log,
    config,
    certificates: () => ids.certificates(),
    onQuit: () => void lifecycle.shutdown('POST /quitquitquit'),
    allowRemoteChanges: config.adminAllowRemoteChanges,
  });
  lifecycle.addServer('admin', admin);
  const readinessServer = createReadinessServer(readiness);
  lifecycle.addServer('readiness', readinessServer);
  const adminPort = await listen(admin, config.adminAddress);
  if (!isLoopbackIp(config.adminAddress.host))
    logger.warn(
      {
        adminAddress: hp(config.adminAddress),
        allowRemoteChanges: config.adminAllowRemoteChanges,
      },
      'the admin server listens beyond localhost: /config_dump (workloads, certificates) is readable from there; keep --admin-address on 127.0.0.1',
    );
  const readinessPort = await listen(readinessServer, config.readinessAddress);

  const running = ['state-store', 'admin', 'metrics', 'readiness'];
  if (config.localConfig !== undefined) {
    const file = new LocalConfigFile(config.localConfig, store);
    const change = await file.load();
    initialConfig();
    running.push('local-config');
    logger.info({ path: file.path, change }, 'local config loaded');
    const onHup = () => void file.reload(localConfigLog);
    process.on('SIGHUP', onHup);
    lifecycle.onShutdown('local config reload', () => void process.off('SIGHUP', onHup));
  } else {
    const xds = startXdsSource({
      address: hp(config.xdsAddress),
      credentials: xdsCredentials({
        rootPem: readRoot(config.caRootCert),
        tokenPath: config.tokenPath,
      }),
      nodeId: ztunnelNodeId({
        ip: config.podIp ?? '0.0.0.0',
        podName: config.podName,
        podNamespace: config.podNamespace,
      }),
      store,
      logger: log.scope('xds'),
    });
    lifecycle.onShutdown('xds', () => xds.close());
    void xds.synced.then(() => {
      initialConfig();
      logger.info({ xdsAddress: hp(config.xdsAddress) }, 'initial WDS sync applied');
    });
    running.push('xds-client');
  }

  // One process: the proxies' shared context lives here. Workers: each has its own.
  let ctx: ZtunnelContext | undefined;
  if (!pool) {
    ctx = createZtunnelContext({
      store,
      identity: ids,
      traffic: createTrafficMetrics(registry.meter('proxy')),
      accessLog: loggerSink(log.scope('access')),
      logger: log.scope('proxy'),
      settings: {
        hbonePort: config.hbonePort,
        network: config.network,
        hboneIdleTimeoutMs: config.hboneIdleTimeout,
        maxHboneConnections: config.maxHboneConnections,
      },
      meter: registry.meter('hbone'),
    });
  } else {
    // Their levels are set (and shown by /logging) here, and forwarded to the workers.
    log.scope('access');
    log.scope('proxy');
    running.push(`workers(${config.workers})`);
  }
  const context = ctx;
  // Drain: stop accepting, let open connections finish up to the drain timeout, then cut them.
  let proxies: { close(drainMs?: number): Promise<void> };
  const ownAddresses = {
    outbound: listenAt(config.outboundAddress),
    inbound: listenAt(config.inboundAddress),
    inboundPlaintext: listenAt(config.inboundPlaintextAddress),
  };
  if (dedicated) {
    // One workload's listeners in this netns, as one pod's in-pod set: its identity, its address,
    // ztunnel's own sockets marked 0x539 (workers reopen this netns through the primary's fd).
    const pod = {
      uid: `${config.clusterId}//Pod/${dedicated.namespace}/${dedicated.name}`,
      ...dedicated,
    };
    const ops = createHostSocketOps({ localAddressFallback: true });
    const set = pool
      ? await startDispatchedPodSet(
          pool,
          pod,
          ops,
          openSync('/proc/self/ns/net', 'r'),
          ownAddresses,
        )
      : await startProxySet(context!, pod, ops, ownAddresses);
    proxies = set;
    running.push('identity-manager', 'proxies(dedicated)');
    logger.info(
      { ports: set.ports, workload: `${dedicated.namespace}/${dedicated.name}` },
      'dedicated proxies listening',
    );
  } else if (config.proxyMode === 'all-workloads') {
    const ops = createHostSocketOps({ localAddressFallback: true });
    const addresses = ownAddresses;
    const shared: ProxySet = pool
      ? await startDispatchedAllWorkloadsSet(pool, ops, addresses)
      : await startAllWorkloadsProxySet(context!, ops, addresses);
    // Every workload in the store is local here: a certificate goes with its identity's last workload.
    const usage = new WorkloadIdentities();
    const unsubscribe = store.subscribe((change) => {
      for (const identity of usage.apply(store, change)) forget(identity);
    });
    usage.apply(store, {
      workloads: { upserted: store.workloads().map((w) => w.uid), removed: [] },
      services: { upserted: [], removed: [] },
      policies: { upserted: [], removed: [] },
    });
    lifecycle.onShutdown('identity usage', unsubscribe);
    proxies = shared;
    running.push('identity-manager', 'proxies(all-workloads)');
    logger.info({ ports: shared.ports }, 'all-workloads proxies listening');
  } else {
    // In-pod: the ZDS client hands over pod netns fds; each pod gets its own proxy set inside it.
    const startPod = (pod: PodSpec, ops: SocketOps, netnsFd: number) =>
      pool ? startDispatchedPodSet(pool, pod, ops, netnsFd) : startProxySet(context!, pod, ops);
    proxies = startInpod({
      zdsSocket: config.zdsSocket,
      logger: log.scope('inpod'),
      drainMs: config.drainTimeout,
      store,
      trustDomain: config.trustDomain,
      startPod: config.dnsProxy
        ? withDnsProxy(startPod, {
            store,
            network: config.network,
            clusterDomain: config.clusterDomain,
            ipv6: config.ipv6Enabled,
            resolvConf: config.dnsResolvConf,
            logger: log.scope('dns'),
            metrics: createDnsMetrics(registry.meter('dns')),
          })
        : startPod,
      forget,
    });
    running.push('identity-manager', 'zds-client', 'proxies(shared)');
    if (config.dnsProxy) running.push('dns-proxy');
    logger.info({ zdsSocket: config.zdsSocket }, 'in-pod mode: waiting for pods over ZDS');
  }
  lifecycle.onShutdown('proxies', async ({ remainingMs }) => {
    await proxies.close(remainingMs());
    await ctx?.close();
    await pool?.close();
    ids.close();
  });
  logger.info(
    { adminPort, metricsPort, readinessPort, running, ...(pool ? { workers: pool.pids } : {}) },
    'trellis-ztunnel started',
  );
  await lifecycle.done;
  // Drained and closed. What a library still has open must not hold the exit: grpc-js does not end
  // a connection it is still making when its channel closes (the control plane's pod going away
  // while being dialled kept ztunnel running until the kubelet's SIGKILL, 30 s later).
  process.exit(0);
}

main().catch((err: unknown) => {
  let message: string;
  if (err instanceof ConfigError) message = err.problems.join('\n');
  else if (err instanceof LocalConfigError)
    message = err.problems.map((p) => `${err.source}: ${p}`).join('\n');
  else message = err instanceof Error ? err.message : String(err);
  process.stderr.write(
    `${message
      .split('\n')
      .map((line) => `${PROGRAM}: ${line}`)
      .join('\n')}\n`,
  );
  process.exit(1);
});
