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
import { createDeltaClient, protoDecoder, type XdsClient } from '@trellis/xds';

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

function connect(n: number): XdsClient {
  const client = createDeltaClient({
    address: address!,
    credentials: credentials.createInsecure(),
    node: {
      id: `ztunnel~10.0.${n >> 8}.${n & 255}~ztunnel-${n}.istio-system~istio-system.svc.cluster.local`,
    },
    // The whole mesh comes in one response: ~3.7 MiB at 10k pods, near grpc-js's 4 MiB default.
    channelOptions: { 'grpc.max_receive_message_length': -1 },
    backoff: { initialMs: 100, maxMs: 1000 },
  });
  const seen = new Set<string>();
  let addresses = 0;
  let authorizations = 0;
  const onChange =
    (typeUrl: string) =>
    (c: {
      version: string;
      updated: ReadonlyMap<string, unknown>;
      removed: readonly string[];
      resources: ReadonlyMap<string, unknown>;
    }) => {
      if (seen.size < 2 && !seen.has(typeUrl)) {
        seen.add(typeUrl);
        if (typeUrl === ADDRESS_TYPE_URL) addresses = c.resources.size;
        else authorizations = c.resources.size;
        if (seen.size === 2) send({ kind: 'synced', client: n, addresses, authorizations });
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
    };
  client.watch(
    ADDRESS_TYPE_URL,
    { decode: protoDecoder(AddressSchema), onChange: onChange(ADDRESS_TYPE_URL) },
    ['*'],
  );
  client.watch(
    AUTHORIZATION_TYPE_URL,
    { decode: protoDecoder(AuthorizationSchema), onChange: onChange(AUTHORIZATION_TYPE_URL) },
    ['*'],
  );
  return client;
}

/** A client of the Envoy types: every type with a wildcard, reported like the WDS clients. */
function connectEnvoy(n: number): XdsClient {
  const ns = 'team-000';
  const waypoint = n % 2 === 1;
  const client = createDeltaClient({
    address: address!,
    credentials: credentials.createInsecure(),
    node: waypoint
      ? {
          id: `waypoint~10.3.${n >> 8}.${n & 255}~waypoint-${n}.${ns}~${ns}.svc.cluster.local`,
          metadata: { LABELS: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
        }
      : { id: `sidecar~10.3.${n >> 8}.${n & 255}~client-${n}.${ns}~${ns}.svc.cluster.local` },
    channelOptions: { 'grpc.max_receive_message_length': -1 },
    backoff: { initialMs: 100, maxMs: 1000 },
  });
  const types = [
    LISTENER_TYPE_URL,
    ROUTE_CONFIGURATION_TYPE_URL,
    CLUSTER_TYPE_URL,
    CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  ];
  const seen = new Map<string, number>();
  for (const typeUrl of types)
    client.watch(
      typeUrl,
      {
        decode: (any) => ({ ok: true, value: any.value.length }),
        onChange(c) {
          if (seen.size < types.length && !seen.has(typeUrl)) {
            seen.set(typeUrl, c.resources.size);
            if (seen.size === types.length)
              send({
                kind: 'synced',
                client: n,
                addresses: seen.get(LISTENER_TYPE_URL)!,
                authorizations: seen.get(CLUSTER_TYPE_URL)!,
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
