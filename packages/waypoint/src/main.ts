#!/usr/bin/env node
// trellis-waypoint: the waypoint role (or with --role gateway the ingress gateway role) of the L7
// engine with the process settings; SIGTERM, SIGINT and /quitquitquit drain in-flight requests for
// --drain-timeout, then exit 0.
import { readFileSync } from 'node:fs';
import { ConfigError, createLogger, helpText, wantsHelp } from '@trellis/core';
import { loadWaypointConfig, processSource, PROGRAM, SUMMARY, waypointSettings } from './config.js';
import { caIdentity } from './waypoint/identity.js';
import { startWaypoint } from './waypoint/start.js';

async function main(): Promise<void> {
  const source = processSource();
  if (wantsHelp(source.argv)) {
    process.stdout.write(helpText(PROGRAM, SUMMARY, waypointSettings));
    return;
  }
  const config = loadWaypointConfig(source);
  const log = createLogger({ name: PROGRAM, level: config.logLevel });
  let rootPem: string;
  try {
    rootPem = readFileSync(config.caRootCert, 'utf8');
  } catch (err) {
    throw new ConfigError([`--ca-root-cert ${config.caRootCert}: ${(err as Error).message}`]);
  }
  const spiffeId = `spiffe://${config.trustDomain}/ns/${config.podNamespace}/sa/${config.serviceAccount}`;
  const identity = caIdentity({
    spiffeId,
    caAddress: `${config.caAddress.host}:${config.caAddress.port}`,
    rootPem,
    trustDomain: config.trustDomain,
    token: config.tokenPath,
    clusterId: config.clusterId,
    logger: log.scope('identity'),
  });
  const waypoint = await startWaypoint(config, {
    log,
    identity,
    ...(config.accessLog ? { accessLogSink: process.stdout } : {}),
  });
  const stop = (signal: string) => {
    log.scope(config.role).info({ signal }, 'shutting down');
    void waypoint.shutdown(config.drainTimeout);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  await waypoint.done;
  process.exitCode = 0;
  // Timers of the libraries (CA rotation, xDS backoff) must not hold the process.
  setTimeout(() => process.exit(0), 100).unref();
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${PROGRAM}: ${err.message}\nRun ${PROGRAM} --help for every setting.\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`${PROGRAM}: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
