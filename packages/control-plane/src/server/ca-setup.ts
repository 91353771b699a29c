// The embedded CA for the secure port: its signing material, who may call it (static tokens or
// TokenReview) and, in cluster mode, the root published as ConfigMap istio-ca-root-cert.
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Meter } from '@opentelemetry/api';
import {
  CertificateAuthority,
  dirStore,
  indexPodsByNode,
  loadOrCreateCa,
  publishRoot,
  readStaticTokens,
  secretStore,
  staticIdentities,
  tokenReviewAuthenticator,
  type Authenticator,
  type CaStore,
  type NodeIndex,
  type ServiceAccountRef,
} from '@trellis/ca';
import type { Logger } from '@trellis/core';
import type { ControlPlaneConfig } from '../config.js';
import { describeKubeError } from '../ingest/kube-errors.js';
import type { Pod } from '../model/kube.js';

export interface EmbeddedCa {
  readonly ca: CertificateAuthority;
  /** Also used for xDS streams on the secure port. */
  readonly authenticator: Authenticator;
  /** Where the CA material lives, for logs. */
  readonly location: string;
  stop(): Promise<void>;
}

export interface CaSetupOptions {
  readonly config: ControlPlaneConfig;
  /** Cluster mode only. */
  readonly kubeConfig: KubeConfig | undefined;
  /** The pods of the newest snapshot (for impersonation: which identities run on a node). */
  readonly pods: () => readonly Pod[];
  readonly logger: Logger;
  readonly meter?: Meter;
}

export async function setUpCa(o: CaSetupOptions): Promise<EmbeddedCa> {
  const { config, kubeConfig } = o;
  const store = await chooseStore(config, kubeConfig);
  let material;
  try {
    material = await loadOrCreateCa(store, { trustDomain: config.mesh.trustDomain });
  } catch (err) {
    throw new Error(`CA: ${describeKubeError(err)}`, { cause: err });
  }
  o.logger.info({ store: store.location, created: material.created }, 'CA loaded');

  let identities: { authenticator: Authenticator; nodeIndex: NodeIndex };
  if (config.staticTokens !== undefined) {
    identities = staticIdentities(await readStaticTokens(config.staticTokens));
  } else {
    if (!kubeConfig) throw new Error('the CA needs --static-tokens without a cluster');
    identities = {
      authenticator: tokenReviewAuthenticator({ kubeConfig, audiences: config.audiences }),
      nodeIndex: podNodeIndex(o.pods),
    };
  }
  const ca = new CertificateAuthority({
    ...material,
    ...identities,
    trustDomain: config.mesh.trustDomain,
    trustedNodeProxies: config.trustedNodeProxies,
    defaultTtlMs: config.defaultTtlMs,
    maxTtlMs: config.maxTtlMs,
    logger: o.logger,
    ...(o.meter ? { meter: o.meter } : {}),
  });
  const publisher = kubeConfig
    ? await publishRoot(kubeConfig, material.rootPem, o.logger.child({ part: 'publish-root' }))
    : undefined;
  return {
    ca,
    authenticator: identities.authenticator,
    location: store.location,
    stop: async () => void (await publisher?.stop()),
  };
}

/** --ca-dir in config-dir mode, or when it holds a plug-in CA; else the cluster Secret; else memory. */
async function chooseStore(
  config: ControlPlaneConfig,
  kubeConfig: KubeConfig | undefined,
): Promise<CaStore> {
  if (config.caDir !== undefined) {
    const dir = dirStore(config.caDir);
    if (!kubeConfig || (await dir.load())['ca-cert.pem'] !== undefined) return dir;
  }
  if (kubeConfig) return secretStore(kubeConfig, config.systemNamespace);
  return memoryStore();
}

function memoryStore(): CaStore {
  let files: Parameters<CaStore['save']>[0] | undefined;
  return {
    location: 'memory (not kept across restarts; give --ca-dir to keep the root)',
    load: async () => ({ ...files }),
    save: async (f) => void (files = f),
  };
}

/** Which service accounts have a pod on a node, from the newest snapshot's pods. */
function podNodeIndex(pods: () => readonly Pod[]): NodeIndex {
  let seen: readonly Pod[] | undefined;
  let byNode = new Map<string, ServiceAccountRef[]>();
  return {
    workloadsOn(node) {
      const now = pods();
      if (now !== seen) {
        byNode = indexPodsByNode(now as readonly V1Pod[]);
        seen = now;
      }
      return byNode.get(node) ?? [];
    },
  };
}
