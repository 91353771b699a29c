// Test support: a ztunnel-like delta xDS client (packages/xds createDeltaClient) subscribed to
// Address and Authorization with a wildcard, recording every change it accepts.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@trellis/api';
import {
  AuthorizationSchema,
  type Authorization,
} from '@trellis/api/gen/istio/security/authorization_pb.js';
import { AddressSchema, type Address } from '@trellis/api/gen/istio/workload/workload_pb.js';
import {
  createDeltaClient,
  protoDecoder,
  type ResourceChange,
  type Watch,
  type XdsClient,
} from '@trellis/xds';

export const ZTUNNEL_NODE_ID =
  'ztunnel~10.0.0.9~ztunnel-abcde.istio-system~istio-system.svc.cluster.local';

export interface WdsClient {
  readonly client: XdsClient;
  readonly addresses: Watch<Address>;
  readonly authorizations: Watch<Authorization>;
  /** Every accepted change, in order. */
  readonly changes: ResourceChange<Address | Authorization>[];
  close(): void;
}

export function wdsClient(
  address: string,
  credentials: ChannelCredentials,
  nodeId = ZTUNNEL_NODE_ID,
): WdsClient {
  const client = createDeltaClient({
    address,
    credentials,
    node: { id: nodeId },
    backoff: { initialMs: 100, maxMs: 1000 },
  });
  const changes: ResourceChange<Address | Authorization>[] = [];
  const addresses = client.watch<Address>(ADDRESS_TYPE_URL, {
    decode: protoDecoder(AddressSchema),
    onChange: (c) => void changes.push(c),
  });
  const authorizations = client.watch<Authorization>(AUTHORIZATION_TYPE_URL, {
    decode: protoDecoder(AuthorizationSchema),
    onChange: (c) => void changes.push(c),
  });
  return { client, addresses, authorizations, changes, close: () => client.close() };
}
