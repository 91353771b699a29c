#!/usr/bin/env node
// trellis-control-plane: serves WDS and Envoy xDS from a config directory or a Kubernetes cluster.
import { ConfigError, createLogger, helpText, wantsHelp } from '@trellis/core';
import { controlPlaneSettings, loadControlPlaneConfig } from './config.js';
import { startControlPlane } from './server/control-plane.js';

const SUMMARY =
  'Serves ztunnels (WDS), waypoints and proxyless gRPC clients (Envoy xDS) from a config directory or a Kubernetes cluster, with an embedded CA on the secure port.';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(helpText('trellis-control-plane', SUMMARY, controlPlaneSettings));
    return;
  }
  const config = loadControlPlaneConfig({ argv, env: process.env });
  const log = createLogger({ name: 'trellis-control-plane', level: config.logLevel });
  const running = await startControlPlane(config, log);
  await running.lifecycle.done;
  // Drained and closed; a lingering keep-alive socket of the Kubernetes client must not hold the exit.
  process.exit(0);
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError
      ? err.problems.join('\n')
      : err instanceof Error
        ? err.message
        : String(err);
  process.stderr.write(`trellis-control-plane: ${message}\n`);
  process.exit(1);
});
