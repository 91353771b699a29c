// Micro-benchmark (not a test) of the engine's request hot path alone, without HBONE, TLS or
// sockets: the benchmark's configuration (the control plane's waypoint listener shape, RDS route
// "/" -> an EDS cluster, normalize_path, request ids, Istio metrics) converted from Envoy resources,
// N downstream connections over in-memory stream pairs, each sending GET / in a loop and reading
// the 1 KiB response; the "upstream" (memoryUpstream, a stand-in for ztunnel B + nginx, which
// cannot be in-process) answers every head with a fixed nginx-like response. Reports the CPU
// microseconds per request of the whole process (the client and upstream stand-ins are a few
// percent of it). Run after a build: node bench/engine-hotpath.mjs  (BENCH_SECONDS, BENCH_CONNS,
// BENCH_ROUNDS; BENCH_ENGINE_DIST: another build's dist directory, e.g. a copy of the base
// commit's, for A/B runs).
import { fromBinary } from '@bufbuild/protobuf';
import { Duplex } from 'node:stream';
import { ClusterSchema } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { createLogger } from '@trellis/core';
import { fileURLToPath } from 'node:url';

const DIST = process.env.BENCH_ENGINE_DIST ?? fileURLToPath(new URL('../dist', import.meta.url));
const from = (rel) => import(`${DIST}/${rel}`);
const { convertCluster, convertEndpoints } = await from('engine/convert/cluster.js');
const { convertListener } = await from('engine/convert/listener.js');
const { convertRouteConfiguration } = await from('engine/convert/route-config.js');
const { Engine } = await from('engine/engine.js');
const { peerLabels } = await from('engine/telemetry/peer.js');
const { cluster, endpoints, forward, listener, simpleRoutes } = await from(
  'test-support/envoy-builders.js',
);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONNS = Number(process.env.BENCH_CONNS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CLUSTER = 'outbound|80||echo.bench.svc.cluster.local';
const VIP = '127.0.100.1';
/**
 * Two connected in-memory Duplex ends (Node 20 has no stream.duplexPair). What one end writes in
 * an event-loop turn reaches the other in the next (setImmediate), as socket and HBONE reads do.
 */
function memoryPair() {
  const ends = [];
  const make = (i) => {
    let queued = [];
    const deliver = () => {
      const q = queued;
      queued = [];
      ends[1 - i].push(q.length === 1 ? q[0] : Buffer.concat(q));
    };
    return new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        if (queued.push(chunk) === 1) setImmediate(deliver);
        cb();
      },
      final(cb) {
        ends[1 - i].push(null);
        cb();
      },
    });
  };
  ends.push(make(0), make(1));
  return [ends[0], ends[1]];
}
const BODY = 'x'.repeat(1024);
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 17:00:00 GMT\r\n' +
    'Content-Type: text/plain\r\nContent-Length: 1024\r\nLast-Modified: Sun, 06 Dec 2026 16:00:00 GMT\r\n' +
    `Connection: keep-alive\r\nETag: "6756f4a0-400"\r\nAccept-Ranges: bytes\r\n\r\n${BODY}`,
  'latin1',
);
/** What wrk sends through ztunnel A (plus the baggage-free HBONE hop). */
const REQUEST = Buffer.from(`GET / HTTP/1.1\r\nHost: ${VIP}\r\n\r\n`, 'latin1');
/** The upstream stand-in: answers each request head with RESPONSE. */
function memoryUpstream(end) {
  let carry = '';
  end.on('data', (d) => {
    let s = carry + d.toString('latin1');
    let i;
    while ((i = s.indexOf('\r\n\r\n')) !== -1) {
      s = s.slice(i + 4);
      end.write(RESPONSE);
    }
    carry = s;
  });
}
function setUp() {
  const engine = new Engine({
    connector: {
      connect: () => {
        const [ours, theirs] = memoryPair();
        memoryUpstream(theirs);
        return Promise.resolve(ours);
      },
    },
    logger: createLogger({ level: 'warn' }).scope('engine'),
    hostname: 'waypoint-0',
    reporter: 'waypoint',
  });
  const unpack = (n, schema) => fromBinary(schema, n.resource.value);
  const ok = (c) => {
    if (!c.ok) throw new Error(c.reason);
    return c.value;
  };
  const routes = 'echo.bench.svc.cluster.local:80';
  engine.applyClusters(
    new Map([[CLUSTER, ok(convertCluster(unpack(cluster(CLUSTER), ClusterSchema)))]]),
    [],
  );
  engine.applyEndpoints(
    new Map([
      [
        CLUSTER,
        ok(
          convertEndpoints(
            unpack(
              endpoints(CLUSTER, [
                {
                  ip: '127.0.20.1',
                  port: 8080,
                  identity: 'spiffe://cluster.local/ns/bench/sa/echo',
                  workload: 'echo-0;bench;echo;latest;Kubernetes',
                },
              ]),
              ClusterLoadAssignmentSchema,
            ),
          ),
        ),
      ],
    ]),
    [],
  );
  engine.applyRoutes(
    new Map([
      [
        routes,
        ok(
          convertRouteConfiguration(
            unpack(
              simpleRoutes(routes, [
                forward('default', { pathSpecifier: { case: 'prefix', value: '/' } }, CLUSTER),
              ]),
              RouteConfigurationSchema,
            ),
          ),
        ),
      ],
    ]),
    [],
  );
  const l = listener([{ vip: VIP, port: 80, routes, hcm: { normalizePath: true } }]);
  engine.applyListeners(new Map([[l.name, ok(convertListener(unpack(l, ListenerSchema)))]]), []);
  const principal = 'spiffe://cluster.local/ns/istio-system/sa/ztunnel';
  const conn = {
    sourceAddress: '127.0.51.1',
    sourcePort: 40000,
    remoteAddress: '127.0.0.1',
    destinationAddress: VIP,
    destinationPort: 80,
    localAddress: '127.0.30.1:15008',
    peerPrincipal: principal,
    security: 'mutual_tls',
    peer: peerLabels(principal, undefined),
  };
  return { engine, conn };
}
/** One downstream connection sending requests back to back until `stop()`; counts responses. */
function client(engine, conn, counter) {
  const [ours, theirs] = memoryPair();
  const chain = engine.selectChain('waypoint_inbound', {
    destinationAddress: conn.destinationAddress,
    destinationPort: conn.destinationPort,
    sourceAddress: conn.sourceAddress,
    sourcePort: conn.sourcePort,
    transportProtocol: 'raw_buffer',
    applicationProtocols: [],
  });
  if (!chain || !engine.serve(chain, theirs, conn)) throw new Error('no chain for the VIP');
  let carry = '';
  ours.on('data', (d) => {
    let s = carry + d.toString('latin1');
    for (;;) {
      const h = s.indexOf('\r\n\r\n');
      if (h === -1) break;
      const cl = Number(/content-length: (\d+)/i.exec(s.slice(0, h))?.[1] ?? 0);
      if (s.length < h + 4 + cl) break;
      s = s.slice(h + 4 + cl);
      counter.n++;
      if (!counter.stop) ours.write(REQUEST);
    }
    carry = s;
  });
  ours.write(REQUEST);
}
async function round(engine, conn) {
  const counter = { n: 0, stop: false };
  for (let i = 0; i < CONNS; i++) client(engine, conn, counter);
  await new Promise((r) => setTimeout(r, 300)); // warm-up
  const n0 = counter.n;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const c1 = process.cpuUsage(c0);
  const t1 = performance.now();
  const n = counter.n - n0;
  counter.stop = true;
  await new Promise((r) => setTimeout(r, 100));
  return { rps: (n / (t1 - t0)) * 1000, us: (c1.user + c1.system) / n };
}
async function main() {
  const { engine, conn } = setUp();
  await round(engine, conn); // JIT warm-up, not counted
  const results = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await round(engine, conn);
    results.push(r);
    process.stdout.write(
      `round ${i + 1}: ${r.rps.toFixed(0)} req/s, ${r.us.toFixed(2)} us CPU/req\n`,
    );
  }
  const us = results.map((r) => r.us).sort((a, b) => a - b);
  process.stdout.write(
    `engine hot path: min ${us[0].toFixed(2)} median ${us[Math.floor((us.length - 1) / 2)].toFixed(2)} max ${us.at(-1).toFixed(2)} us CPU/req, ${CONNS} connections, ${SECONDS} s x ${ROUNDS} after a warm-up round (the minimum is the least disturbed by other work on the host)\n`,
  );
  engine.close();
  process.exit(0);
}
void main();
