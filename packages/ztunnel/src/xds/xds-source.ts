// Fills the state store from the control plane: one delta ADS stream subscribed to every Address
// and Authorization (wildcard). Ready once both types delivered their first response.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@trellis/api';
import type { Logger } from '@trellis/core';
import { createDeltaClient, WILDCARD, type XdsClient } from '@trellis/xds';
import type { StateStore } from '../state/store.js';
import { addressHandler, authorizationHandler } from './handlers.js';

export interface XdsSourceOptions {
  /** host:port of the control plane (15012 TLS, or 15010 plaintext locally). */
  readonly address: string;
  readonly credentials: ChannelCredentials;
  readonly nodeId: string;
  readonly store: StateStore;
  readonly logger?: Logger;
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

export interface XdsSource {
  readonly client: XdsClient;
  /** Resolves after the first response of both types was applied. */
  readonly synced: Promise<void>;
  close(): void;
}

/** `ztunnel~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`, the node id the control plane parses. */
export function ztunnelNodeId(p: { ip: string; podName: string; podNamespace: string }): string {
  return `ztunnel~${p.ip}~${p.podName}.${p.podNamespace}~${p.podNamespace}.svc.cluster.local`;
}

export function startXdsSource(o: XdsSourceOptions): XdsSource {
  const client = createDeltaClient({
    address: o.address,
    credentials: o.credentials,
    node: { id: o.nodeId },
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.backoff ? { backoff: o.backoff } : {}),
  });
  let addresses!: () => void;
  let policies!: () => void;
  const synced = Promise.all([
    new Promise<void>((r) => (addresses = r)),
    new Promise<void>((r) => (policies = r)),
  ]).then(() => undefined);
  client.watch(ADDRESS_TYPE_URL, addressHandler(o.store, addresses), [WILDCARD]);
  client.watch(AUTHORIZATION_TYPE_URL, authorizationHandler(o.store, policies), [WILDCARD]);
  return { client, synced, close: () => client.close() };
}
