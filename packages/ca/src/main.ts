#!/usr/bin/env node
// trellis-ca: the workload certificate authority as a standalone program.
import { KubeConfig } from '@kubernetes/client-node';
import {
  ConfigError,
  createLifecycle,
  createLogger,
  createMetrics,
  helpText,
  wantsHelp,
} from '@trellis/core';
import { CertificateAuthority } from './authority.js';
import { startPodIndex } from './authn/pod-index.js';
import { readStaticTokens, staticIdentities } from './authn/static.js';
import { tokenReviewAuthenticator } from './authn/token-review.js';
import { caSettings, loadCaConfig } from './config.js';
import { dirStore } from './dir-store.js';
import { publishRoot } from './publish-root.js';
import { loadOrCreateCa } from './roots.js';
import { secretStore } from './secret-store.js';
import { createCaServer } from './server.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(
      helpText(
        'trellis-ca',
        'Signs SPIFFE workload certificates for ztunnel and waypoints (istio.v1.auth.IstioCertificateService).',
        caSettings,
      ),
    );
    return;
  }
  const config = loadCaConfig({ argv, env: process.env });
  const log = createLogger({ name: 'trellis-ca', level: config.logLevel });
  const logger = log.scope('ca');
  const lifecycle = createLifecycle({ logger: log.root, drainMs: config.drain });
  const clusterMode = config.staticTokens === '';
  const kubeConfig = clusterMode ? new KubeConfig() : undefined;
  kubeConfig?.loadFromDefault();

  const store =
    config.caDir &&
    (!clusterMode || (await dirStore(config.caDir).load())['ca-cert.pem'] !== undefined)
      ? dirStore(config.caDir)
      : secretStore(kubeConfig!, config.namespace);
  const material = await loadOrCreateCa(store, { trustDomain: config.trustDomain });
  logger.info({ store: store.location, created: material.created }, 'CA loaded');

  let identities;
  if (clusterMode) {
    const podIndex = await startPodIndex(kubeConfig!, log.scope('pods'));
    lifecycle.onShutdown('pod index', () => podIndex.stop());
    identities = {
      authenticator: tokenReviewAuthenticator({
        kubeConfig: kubeConfig!,
        audiences: config.audiences,
      }),
      nodeIndex: podIndex,
    };
    const publisher = await publishRoot(kubeConfig!, material.rootPem, log.scope('publish-root'));
    lifecycle.onShutdown('root publisher', () => publisher.stop());
  } else {
    identities = staticIdentities(await readStaticTokens(config.staticTokens));
  }

  const metrics =
    config.metricsPort >= 0 ? await createMetrics({ port: config.metricsPort }) : undefined;
  if (metrics) lifecycle.onShutdown('metrics', () => metrics.stop());
  const ca = new CertificateAuthority({
    ...material,
    ...identities,
    trustDomain: config.trustDomain,
    trustedNodeProxies: config.trustedNodeProxies,
    defaultTtlMs: config.defaultTtl,
    maxTtlMs: config.maxTtl,
    logger,
    ...(metrics ? { meter: metrics.meter('ca') } : {}),
  });
  const server = await createCaServer({
    ca,
    host: config.listen.host,
    port: config.listen.port,
    dnsNames: config.dnsNames,
    logger,
  });
  lifecycle.addServer('grpc', server.listener);
  logger.info(
    {
      port: server.port,
      metricsPort: metrics?.port,
      mode: clusterMode ? 'cluster' : 'static-tokens',
    },
    'trellis-ca serving',
  );
  await lifecycle.done;
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError
      ? err.problems.join('\n')
      : err instanceof Error
        ? err.message
        : String(err);
  process.stderr.write(`trellis-ca: ${message}\n`);
  process.exit(1);
});
