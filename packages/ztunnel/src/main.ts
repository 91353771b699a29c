#!/usr/bin/env node
// trellis-ztunnel. This build runs the state store (filled from --local-config), the admin,
// metrics and readiness servers, and graceful shutdown; it does not proxy yet, and says so.
import {
  ConfigError,
  createLifecycle,
  createLogger,
  createMetrics,
  helpText,
  wantsHelp,
} from '@trellis/core';
import { createAdminServer } from './admin/admin-server.js';
import { listen } from './admin/listen.js';
import { Readiness } from './admin/readiness.js';
import { createReadinessServer } from './admin/readiness-server.js';
import { loadZtunnelConfig, processSource, PROGRAM, SUMMARY, ztunnelSettings } from './config.js';
import { createTrafficMetrics } from './metrics.js';
import { LocalConfigError } from './state/local-config.js';
import { LocalConfigFile } from './state/local-config-file.js';
import { StateStore } from './state/store.js';

const NOT_YET = [
  'xds-client',
  'identity-manager',
  'inbound-proxy',
  'outbound-proxy',
  'inpod-manager',
  'dns-proxy',
];

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
  createTrafficMetrics(metrics.meter('proxy'));

  const admin = createAdminServer({
    store,
    log,
    config,
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
    logger.warn(
      { xdsAddress: config.xdsAddress },
      'no --local-config: the xDS client is not part of this build, so the store stays empty and readiness stays 503',
    );
  }
  logger.info(
    { adminPort, metricsPort: metrics.port, readinessPort, running, notRunning: NOT_YET },
    'trellis-ztunnel started; it does not proxy traffic yet',
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
