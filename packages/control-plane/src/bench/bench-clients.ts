// Child process of the scale benchmark: `count` ztunnel-like delta xDS clients (Address and
// Authorization, wildcard) to `address`, numbered from `first`. Runs apart from the server so that
// the server's process.cpuUsage() counts only the control plane. Reports over IPC:
//   { kind: 'ready' }  once started
//   { kind: 'synced', client, addresses, authorizations }  once both types were received
//   { kind: 'change', client, typeUrl, version, updated, removed }  for every later accepted response
//   { kind: 'memory', rss, heapUsed }  when asked with { kind: 'memory' }
// Starts connecting on { kind: 'connect' }; { kind: 'close' } closes the clients and exits.
import { credentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@trellis/api';
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

const [address, firstText, countText] = process.argv.slice(2);
const first = Number(firstText);
const count = Number(countText);
if (!address || !Number.isInteger(first) || !Number.isInteger(count) || count < 1) {
  console.error('usage: bench-clients.js HOST:PORT FIRST COUNT (run by control-plane-bench.js)');
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

process.on('message', (m: ClientCommand) => {
  if (m.kind === 'connect') for (let i = 0; i < count; i++) clients.push(connect(first + i));
  else if (m.kind === 'memory') {
    const mem = process.memoryUsage();
    send({ kind: 'memory', rss: mem.rss, heapUsed: mem.heapUsed });
  } else {
    for (const c of clients) c.close();
    process.disconnect();
  }
});
send({ kind: 'ready' });
