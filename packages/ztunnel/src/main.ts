#!/usr/bin/env node
// trellis-ztunnel: the state store (from --local-config or WDS), the identity manager, the proxies
// (--proxy-mode shared: one listener set in this netns; inpod: started per pod by the ZDS client),
// admin, metrics, readiness, and a graceful drain on SIGTERM.
import { readFileSync } from 'node:fs';
import {
  ConfigError,
  createLifecycle,
  createLogger,
  createMetrics,
  helpText,
  wantsHelp,
  type HostPort,
} from '@trellis/core';
import { loggerSink } from './access-log/sink.js';
import { createAdminServer } from './admin/admin-server.js';
import { listen } from './admin/listen.js';
import { Readiness } from './admin/readiness.js';
import { createReadinessServer } from './admin/readiness-server.js';
import { loadZtunnelConfig, processSource, PROGRAM, SUMMARY, ztunnelSettings } from './config.js';
import { createCaIdentityManager } from './identity/identity-manager.js';
import { createTrafficMetrics } from './metrics.js';
import { createZtunnelContext } from './proxy/context.js';
import { startInpodMode } from './inpod/start-inpod.js';
import { startSharedProxySet } from './proxy/proxy-set.js';
import { createHostSocketOps } from './proxy/socket-ops.js';
import { LocalConfigError } from './state/local-config.js';
import { LocalConfigFile } from './state/local-config-file.js';
import { StateStore } from './state/store.js';
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
  const lifecycle = createLifecycle({ logger: log.root, drainMs: config.drainTimeout });

  const store = new StateStore({ network: config.network });
  const readiness = new Readiness();
  const initialConfig = readiness.block('initial config');

  const metrics = await createMetrics({
    host: config.metricsAddress.host || undefined,
    port: config.metricsAddress.port,
  });
  lifecycle.onShutdown('metrics', () => metrics.stop());
  const traffic = createTrafficMetrics(metrics.meter('proxy'));

  // Both modes: the identity manager (certificates from the CA) and the proxies' shared context.
  const ids = createCaIdentityManager({
    caAddress: hp(config.caAddress),
    rootPem: readRoot(config.caRootCert),
    trustDomain: config.trustDomain,
    token: config.tokenPath,
    ownIdentity: `spiffe://${config.trustDomain}/ns/${config.podNamespace}/sa/${config.serviceAccount}`,
    clusterId: config.clusterId,
    meter: metrics.meter('identity'),
    logger: log.scope('identity'),
  });
  const admin = createAdminServer({
    store,
    log,
    config,
    certificates: () => ids.certificates(),
    onQuit: () => void lifecycle.shutdown('POST /quitquitquit'),
  });
  lifecycle.addServer('admin', admin);
  const readinessServer = createReadinessServer(readiness);
  lifecycle.addServer('readiness', readinessServer);
  const adminPort = await listen(admin, config.adminAddress);
  const readinessPort = await listen(readinessServer, config.readinessAddress);

  const running = ['state-store', 'admin', 'metrics', 'readiness'];
  if (config.localConfig !== undefined) {
    const file = new LocalConfigFile(config.localConfig, store);
    const change = await file.load();
    initialConfig();
    running.push('local-config');
    logger.info({ path: file.path, change }, 'local config loaded');
    const onHup = () => void file.reload(log.scope('local-config'));
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

  if (config.workers > 1)
    logger.info(
      { workers: config.workers },
      'the proxies run in this one process; --workers is not used yet',
    );
  const ctx = createZtunnelContext({
    store,
    identity: ids,
    traffic,
    accessLog: loggerSink(log.scope('access')),
    logger: log.scope('proxy'),
    settings: { hbonePort: config.hbonePort, network: config.network },
    meter: metrics.meter('hbone'),
  });
  // Drain: stop accepting, let open connections finish up to the drain timeout, then cut them.
  let proxies: { close(drainMs?: number): Promise<void> };
  if (config.proxyMode === 'shared') {
    const shared = await startSharedProxySet(
      ctx,
      createHostSocketOps({ localAddressFallback: true }),
      {
        outbound: listenAt(config.outboundAddress),
        inbound: listenAt(config.inboundAddress),
        inboundPlaintext: listenAt(config.inboundPlaintextAddress),
      },
    );
    proxies = shared;
    running.push('identity-manager', 'proxies(shared)');
    logger.info({ ports: shared.ports }, 'shared proxies listening');
  } else {
    // In-pod: the ZDS client hands over pod netns fds; each pod gets its own proxy set inside it.
    proxies = startInpodMode(ctx, {
      zdsSocket: config.zdsSocket,
      logger: log.scope('inpod'),
      drainMs: config.drainTimeout,
    });
    running.push('identity-manager', 'zds-client', 'proxies(inpod)');
    logger.info({ zdsSocket: config.zdsSocket }, 'in-pod mode: waiting for pods over ZDS');
  }
  lifecycle.onShutdown('proxies', async () => {
    await proxies.close(config.drainTimeout);
    await ctx.close();
    ids.close();
  });
  logger.info(
    { adminPort, metricsPort: metrics.port, readinessPort, running },
    'trellis-ztunnel started',
  );
  await lifecycle.done;
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
