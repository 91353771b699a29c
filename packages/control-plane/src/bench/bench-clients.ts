// Child process of the benchmarks: `count` ztunnel-like delta xDS clients (Address and
// Authorization, wildcard) to `address`, numbered from `first`, and `envoy` more that subscribe to
// the four Envoy types (wildcard) as proxyless gRPC clients (even numbers) or as replicas of the
// waypoint `team-000/waypoint` (odd numbers). Runs apart from the server so that the server's
// process.cpuUsage() counts only the control plane. Reports over IPC:
//   { kind: 'ready' }  once started
//   { kind: 'synced', client, addresses, authorizations }  once every type was received (for an
//     Envoy client: addresses = listeners, authorizations = clusters)
//   { kind: 'change', client, typeUrl, version, updated, removed }  for every later accepted response
//   { kind: 'memory', rss, heapUsed }  when asked with { kind: 'memory' }
// Starts connecting on { kind: 'connect' }; { kind: 'close' } closes the clients and exits.
import { credentials } from '@grpc/grpc-js';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
} from '@trellis/api';
import { AuthorizationSchema } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { AddressSchema } from '@trellis/api/gen/istio/workload/workload_pb.js';
import type { Any } from '@bufbuild/protobuf/wkt';
import { createDeltaClient, protoDecoder, type Decoded, type XdsClient } from '@trellis/xds';

export type ClientReport =
  | { kind: 'ready' }
  | { kind: 'synced'; client: number; addresses: number; authorizations: number }
  | {
      kind: 'change';
      client: number;
      typeUrl: string;
      version: string;
      updated: number;
      removed: number;
    }
  | { kind: 'memory'; rss: number; heapUsed: number };

export type ClientCommand = { kind: 'connect' } | { kind: 'memory' } | { kind: 'close' };

const [address, firstText, countText, envoyText = '0'] = process.argv.slice(2);
const first = Number(firstText);
const count = Number(countText);
const envoy = Number(envoyText);
if (
  !address ||
  !Number.isInteger(first) ||
  !Number.isInteger(count) ||
  count < 1 ||
  !(envoy >= 0)
) {
  console.error(
    'usage: bench-clients.js HOST:PORT FIRST COUNT [ENVOY] (run by control-plane-bench.js, soak.js)',
  );
  process.exit(2);
}
const send = (r: ClientReport) => process.send!(r);
const clients: XdsClient[] = [];

/**
 * A delta client watching `types` with a wildcard: once every type was received it reports
 * `synced` (with the sizes of the first two types), then a `change` for every accepted response.
 */
function connectClient(
  n: number,
  node: { id: string; metadata?: Record<string, unknown> },
  types: readonly (readonly [string, (any: Any, name: string | undefined) => Decoded<unknown>])[],
): XdsClient {
  const client = createDeltaClient({
    address: address!,
    credentials: credentials.createInsecure(),
    node: node as { id: string },
    // The whole mesh comes in one response: ~3.7 MiB at 10k pods, near grpc-js's 4 MiB default.
    channelOptions: { 'grpc.max_receive_message_length': -1 },
    backoff: { initialMs: 100, maxMs: 1000 },
  });
  const sizes = new Map<string, number>();
  for (const [typeUrl, decode] of types)
    client.watch(
      typeUrl,
      {
        decode,
        onChange(c) {
          if (sizes.size < types.length && !sizes.has(typeUrl)) {
            sizes.set(typeUrl, c.resources.size);
            if (sizes.size === types.length)
              send({
                kind: 'synced',
                client: n,
                addresses: sizes.get(types[0]![0])!,
                authorizations: sizes.get(types[types.length > 2 ? 2 : 1]![0])!,
              });
            return;
          }
          send({
            kind: 'change',
            client: n,
            typeUrl,
            version: c.version,
            updated: c.updated.size,
            removed: c.removed.length,
          });
        },
      },
      ['*'],
    );
  return client;
}

function connect(n: number): XdsClient {
  return connectClient(
    n,
    {
      id: `ztunnel~10.0.${n >> 8}.${n & 255}~ztunnel-${n}.istio-system~istio-system.svc.cluster.local`,
    },
    [
      [ADDRESS_TYPE_URL, protoDecoder(AddressSchema)],
      [AUTHORIZATION_TYPE_URL, protoDecoder(AuthorizationSchema)],
    ],
  );
}

/** A client of the Envoy types: a proxyless gRPC client, or a replica of team-000/waypoint. */
function connectEnvoy(n: number): XdsClient {
  const ns = 'team-000';
  const node =
    n % 2 === 1
      ? {
          id: `waypoint~10.3.${n >> 8}.${n & 255}~waypoint-${n}.${ns}~${ns}.svc.cluster.local`,
          metadata: { LABELS: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
        }
      : { id: `sidecar~10.3.${n >> 8}.${n & 255}~client-${n}.${ns}~${ns}.svc.cluster.local` };
  // Sizes only: the bytes are checked by the server tests, not here.
  const size = (any: Any): Decoded<unknown> => ({ ok: true, value: any.value.length });
  return connectClient(n, node, [
    [LISTENER_TYPE_URL, size],
    [ROUTE_CONFIGURATION_TYPE_URL, size],
    [CLUSTER_TYPE_URL, size],
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, size],
  ]);
}

process.on('message', (m: ClientCommand) => {
  if (m.kind === 'connect') {
    for (let i = 0; i < count; i++) clients.push(connect(first + i));
    for (let i = 0; i < envoy; i++) clients.push(connectEnvoy(first + count + i));
  } else if (m.kind === 'memory') {
    const mem = process.memoryUsage();
    send({ kind: 'memory', rss: mem.rss, heapUsed: mem.heapUsed });
  } else {
    for (const c of clients) c.close();
    process.disconnect();
  }
});
send({ kind: 'ready' });
