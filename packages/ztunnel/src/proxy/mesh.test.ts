// Two (or three) ztunnels in one process, all-workloads mode, real CA, TLS and HTTP/2 on loopback
// addresses (127.0.x.y, all on lo: the store needs one address per workload): A -> ztunnel-1
// outbound -> HBONE -> ztunnel-2 inbound -> app B.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { HboneServer } from '@trellis/hbone';
import { parseTrustBundle } from '@trellis/pki';
import { match, policy, service, workload } from '../test-support/fixtures.js';
import { StateStore } from '../state/store.js';
import type { Authorization, Service, Workload } from '../state/model.js';
import {
  exchange,
  sample,
  sha256,
  startHashApp,
  startTestCa,
  startTestZtunnel,
  TD,
} from './test-support/loopback-mesh.js';

const A_IP = '127.0.10.1';
const B_IP = '127.0.20.1';
const B2_IP = '127.0.20.2';
const A = workload({
  uid: 'Kubernetes//Pod/default/a',
  addresses: [A_IP],
  serviceAccount: 'a',
  node: 'node-1',
  workloadName: 'a',
  canonicalName: 'a',
});
const B = workload({
  uid: 'Kubernetes//Pod/default/b',
  addresses: [B_IP],
  serviceAccount: 'b',
  node: 'node-2',
  workloadName: 'b',
  canonicalName: 'b',
});
const A_ID = `spiffe://${TD}/ns/default/sa/a`;

const STRICT: Authorization = policy({
  name: 'converted_peer_authentication_strict',
  action: 'Deny',
  rules: [[[match({ notPrincipals: [{ presence: true }] })]]],
});
const DENY_A: Authorization = policy({
  name: 'deny-a',
  action: 'Deny',
  rules: [[[match({ principals: [{ exact: `${TD}/ns/default/sa/a` }] })]]],
});

/** The same view of the mesh in every ztunnel's store (as xDS would give them). */
function stores(n: number, workloads: Workload[], services: Service[] = []): StateStore[] {
  return Array.from({ length: n }, () => {
    const s = new StateStore();
    s.apply({ upsertWorkloads: workloads, upsertServices: services });
    return s;
  });
}

async function twoNodes(
  t: test.TestContext,
  workloads: Workload[] = [A, B],
  services: Service[] = [],
) {
  const ca = await startTestCa(t);
  const [s1, s2] = stores(2, workloads, services);
  const z2 = await startTestZtunnel(t, ca, { token: 'tok-zt2', inboundHost: B_IP, store: s2! });
  const z1 = await startTestZtunnel(t, ca, {
    token: 'tok-zt1',
    inboundHost: A_IP,
    hbonePort: z2.proxies.ports.inbound,
    store: s1!,
  });
  const app = await startHashApp(t, B_IP);
  return { ca, z1, z2, app };
}

test('A -> ztunnel-1 -> HBONE -> ztunnel-2 -> B carries 20 MB intact; both sides log and count it', async (t) => {
  const { z1, z2, app } = await twoNodes(t);
  const payload = randomBytes(20 * 1024 * 1024);
  z1.destination = { address: B_IP, port: app };
  const result = await exchange(z1.proxies.ports.outbound, payload, A_IP);
  assert.deepEqual(result, { reply: sha256(payload) });

  const server = await eventually('inbound access log', () => z2.accessLog[0]);
  assert.equal(server.direction, 'inbound');
  assert.equal(server.protocol, 'hbone');
  assert.equal(server.srcIdentity, A_ID);
  assert.equal(server.dstIdentity, `spiffe://${TD}/ns/default/sa/b`);
  assert.equal(server.dst, `${B_IP}:${app}`);
  assert.equal(server.decision, 'allow');
  assert.equal(server.bytesReceived, payload.length);
  assert.equal(server.bytesSent, 64);
  const client = await eventually('outbound access log', () => z1.accessLog[0]);
  assert.equal(client.direction, 'outbound');
  assert.equal(client.srcWorkload, 'default/a');
  assert.equal(client.bytesReceived, payload.length);

  const inbound = await z2.scrape();
  const labels = {
    reporter: 'destination',
    source_principal: A_ID,
    connection_security_policy: 'mutual_tls',
  };
  assert.equal(sample(inbound, 'istio_tcp_connections_opened_total', labels), 1);
  assert.equal(sample(inbound, 'istio_tcp_connections_closed_total', labels), 1);
  assert.equal(sample(inbound, 'istio_tcp_received_bytes_total', labels), payload.length);
  const outbound = await z1.scrape();
  assert.equal(
    sample(outbound, 'istio_tcp_sent_bytes_total', {
      reporter: 'source',
      destination_workload: 'b',
    }),
    64,
  );
});

test('a DENY policy added to the store makes the inbound refuse; the refusal is counted and logged', async (t) => {
  const { z1, z2, app } = await twoNodes(t);
  z1.destination = { address: B_IP, port: app };
  assert.ok('reply' in (await exchange(z1.proxies.ports.outbound, Buffer.from('before'), A_IP)));

  z2.store.apply({ upsertPolicies: [DENY_A] });
  const denied = await exchange(z1.proxies.ports.outbound, Buffer.from('after'), A_IP);
  assert.deepEqual(denied, { error: 'ECONNRESET' });
  const entry = await eventually('deny log', () => z2.accessLog.find((e) => e.decision === 'deny'));
  assert.equal(entry.policy, 'default/deny-a');
  assert.equal(entry.srcIdentity, A_ID);
  const text = await z2.scrape();
  assert.equal(
    sample(text, 'istio_tcp_connections_failed_total', {
      response_flags: 'DENY',
      source_principal: A_ID,
    }),
    1,
  );
  assert.equal(sample(text, 'istio_tcp_connections_opened_total', {}), 1);
});

/** A connection from `from` to `port` held open (nothing ended), and the promise of its close. */
function held(port: number, from: string) {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: from, allowHalfOpen: true });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const replied = new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('end', () => resolve(Buffer.concat(chunks).toString()));
  });
  socket.write('held ');
  return { socket, closed, replied };
}

test('open connections a policy change no longer allows are closed (HBONE by a DENY, plaintext by STRICT), others stay', async (t) => {
  const { z1, z2, app } = await twoNodes(t);
  z1.destination = { address: B_IP, port: app };
  z2.destination = { address: B_IP, port: app };
  const opened = async (n: number) =>
    eventually(`${n} connections open at ztunnel-2`, async () =>
      sample(await z2.scrape(), 'istio_tcp_connections_opened_total', {}) >= n ? true : undefined,
    );
  const tunnel = held(z1.proxies.ports.outbound, A_IP);
  const plain = held(z2.proxies.ports.inboundPlaintext, A_IP);
  await opened(2);

  z2.store.apply({ upsertPolicies: [DENY_A] });
  await tunnel.closed;
  // Logged as denied by the policy that closed it, with the bytes it carried before.
  const revoked = await eventually('the closed tunnel in the log', () =>
    z2.accessLog.find((e) => e.protocol === 'hbone' && e.decision === 'deny'),
  );
  assert.equal(revoked.policy, 'default/deny-a');
  assert.match(String(revoked.reason), /^no longer allowed: denied by policy/);
  assert.equal(revoked.srcIdentity, A_ID);
  assert.ok(revoked.bytesReceived >= 'held '.length, JSON.stringify(revoked));
  // The plaintext connection is not matched by that DENY: it is still open and answers.
  plain.socket.end('plain');
  assert.equal(await plain.replied, sha256(Buffer.from('held plain')));

  const plain2 = held(z2.proxies.ports.inboundPlaintext, A_IP);
  await opened(3);
  z2.store.apply({ upsertPolicies: [STRICT] });
  await plain2.closed;
  const strict = await eventually('the closed plaintext connection in the log', () =>
    z2.accessLog.find((e) => e.protocol === 'tcp' && e.decision === 'deny'),
  );
  assert.match(String(strict.policy), /converted_peer_authentication_strict/);
  assert.match(String(strict.reason), /^no longer allowed: /);
});

test('plaintext inbound: PERMISSIVE accepts, STRICT (DENY notPrincipals presence) refuses', async (t) => {
  const { z2, app } = await twoNodes(t);
  z2.destination = { address: B_IP, port: app };
  const accepted = await exchange(z2.proxies.ports.inboundPlaintext, Buffer.from('plain'), A_IP);
  assert.deepEqual(accepted, { reply: sha256(Buffer.from('plain')) });

  z2.store.apply({ upsertPolicies: [STRICT] });
  const refused = await exchange(z2.proxies.ports.inboundPlaintext, Buffer.from('plain'), A_IP);
  assert.deepEqual(refused, { error: 'ECONNRESET' });
  const entry = z2.accessLog.find((e) => e.decision === 'deny');
  assert.equal(entry?.policy, 'default/converted_peer_authentication_strict');
  assert.equal(entry?.protocol, 'tcp');
});

test('STRICT still lets mutual-TLS traffic through HBONE', async (t) => {
  const { z1, z2, app } = await twoNodes(t);
  z2.store.apply({ upsertPolicies: [STRICT] });
  z1.destination = { address: B_IP, port: app };
  const body = Buffer.from('over hbone');
  assert.deepEqual(await exchange(z1.proxies.ports.outbound, body, A_IP), { reply: sha256(body) });
});

test('a destination outside the mesh gets plain TCP passthrough', async (t) => {
  const { z1 } = await twoNodes(t);
  const outside = await startHashApp(t, '127.0.40.1', ':outside');
  z1.destination = { address: '127.0.40.1', port: outside };
  const body = Buffer.from('to the internet');
  assert.deepEqual(await exchange(z1.proxies.ports.outbound, body, A_IP), {
    reply: `${sha256(body)}:outside`,
  });
  const entry = await eventually('passthrough log', () => z1.accessLog[0]);
  assert.equal(entry.protocol, 'tcp');
  assert.equal(entry.dst, `127.0.40.1:${outside}`);
});

test('a service VIP is balanced over its healthy endpoints at the target port', async (t) => {
  const ca = await startTestCa(t);
  const vip = '10.96.0.10';
  const svc = service({
    hostname: 'b.default.svc.cluster.local',
    vips: [{ network: '', address: vip }],
    ports: [{ servicePort: 80, targetPort: 0, appProtocol: 'TCP' }],
  });
  const app1 = await startHashApp(t, B_IP, ':b1');
  const app2 = await startHashApp(t, B2_IP, ':b2');
  const b1 = {
    ...B,
    services: { [`default/${svc.hostname}`]: [{ servicePort: 80, targetPort: app1 }] },
  };
  const b2 = workload({
    uid: 'Kubernetes//Pod/default/b2',
    addresses: [B2_IP],
    serviceAccount: 'b',
    node: 'node-3',
    services: { [`default/${svc.hostname}`]: [{ servicePort: 80, targetPort: app2 }] },
  });
  const down = workload({
    uid: 'Kubernetes//Pod/default/b3',
    addresses: ['127.0.20.3'],
    status: 'Unhealthy',
    services: { [`default/${svc.hostname}`]: [{ servicePort: 80, targetPort: app2 }] },
  });
  const [s1, s2, s3] = stores(3, [A, b1, b2, down], [svc]);
  const z2 = await startTestZtunnel(t, ca, { token: 'tok-zt2', inboundHost: B_IP, store: s2! });
  await startTestZtunnel(t, ca, {
    token: 'tok-zt3',
    inboundHost: B2_IP,
    inboundPort: z2.proxies.ports.inbound,
    store: s3!,
  });
  const z1 = await startTestZtunnel(t, ca, {
    token: 'tok-zt1',
    inboundHost: A_IP,
    hbonePort: z2.proxies.ports.inbound,
    store: s1!,
  });
  z1.destination = { address: vip, port: 80 };
  const seen = new Set<string>();
  for (let i = 0; i < 40 && seen.size < 2; i++) {
    const r = await exchange(z1.proxies.ports.outbound, Buffer.from(`n${i}`), A_IP);
    assert.ok('reply' in r, JSON.stringify(r));
    seen.add(r.reply.split(':')[1]!);
  }
  assert.deepEqual([...seen].sort(), ['b1', 'b2']);
  assert.ok(z1.accessLog.every((e) => e.dstService === `default/${svc.hostname}`));
});

test('a destination behind a waypoint is tunnelled to the waypoint with the original target as :authority', async (t) => {
  const ca = await startTestCa(t);
  const WP_IP = '127.0.30.1';
  const waypointId = `spiffe://${TD}/ns/default/sa/waypoint`;
  const cert = await ca.certificate(waypointId, 'tok-waypoint');
  const authorities: string[] = [];
  const testWaypoint = new HboneServer({
    trustBundle: parseTrustBundle(ca.rootPem, { trustDomain: TD }),
    certificateFor: () => ({ key: cert.key, certChain: cert.chain }),
    onConnect: (req) => {
      authorities.push(`${req.target.address}:${req.target.port}`);
      return { allow: true };
    },
    dial: async () => {
      // Stands in for the waypoint's L7 work: answers itself instead of forwarding.
      const [near, far] = await socketPair();
      far.on('data', () => {});
      far.on('end', () => far.end('via-waypoint'));
      return near;
    },
  });
  const wp = await testWaypoint.listen({ host: WP_IP, port: 0 });
  t.after(() => testWaypoint.close({ drainMs: 0 }));
  const waypointWorkload = workload({
    uid: 'Kubernetes//Pod/default/waypoint',
    addresses: [WP_IP],
    serviceAccount: 'waypoint',
  });
  const behind = {
    ...B,
    waypoint: {
      destination: { kind: 'address' as const, network: '', address: WP_IP },
      hbonePort: wp.port,
    },
  };
  const [s1] = stores(1, [A, behind, waypointWorkload]);
  const z1 = await startTestZtunnel(t, ca, { token: 'tok-zt1', inboundHost: A_IP, store: s1! });
  z1.destination = { address: B_IP, port: 8080 };
  assert.deepEqual(await exchange(z1.proxies.ports.outbound, Buffer.from('x'), A_IP), {
    reply: 'via-waypoint',
  });
  assert.deepEqual(authorities, [`${B_IP}:8080`]);
  assert.equal(z1.accessLog[0]?.via, `${WP_IP}:${wp.port}`);
});

test('a workload behind a waypoint refuses HBONE from anyone but its waypoint', async (t) => {
  const wpAddress = {
    destination: { kind: 'address' as const, network: '', address: '127.0.30.1' },
    hbonePort: 15008,
  };
  const waypointWorkload = workload({
    uid: 'Kubernetes//Pod/default/waypoint',
    addresses: ['127.0.30.1'],
    serviceAccount: 'waypoint',
  });
  const behind = { ...B, waypoint: wpAddress };
  const { z1, z2, app } = await twoNodes(t, [A, waypointWorkload, behind]);
  // ztunnel-1 believes B has no waypoint (stale view), so it goes straight to B's ztunnel.
  z1.store.apply({ upsertWorkloads: [B] });
  z1.destination = { address: B_IP, port: app };
  assert.deepEqual(await exchange(z1.proxies.ports.outbound, Buffer.from('x'), A_IP), {
    error: 'ECONNRESET',
  });
  const entry = await eventually('deny log', () => z2.accessLog[0]);
  assert.equal(entry.decision, 'deny');
  assert.match(entry.reason ?? '', /not the waypoint/);
});

test("a workload's own waypoint takes traffic to its IP only: its service's VIP goes straight to it", async (t) => {
  // istio.io/waypoint-for: workload. The waypoint (never dialled here) would answer 'via-waypoint'.
  const wpAddress = {
    destination: { kind: 'address' as const, network: '', address: '127.0.30.1' },
    hbonePort: 15008,
  };
  const waypointWorkload = workload({
    uid: 'Kubernetes//Pod/default/waypoint',
    addresses: ['127.0.30.1'],
    serviceAccount: 'waypoint',
  });
  const vip = '10.96.0.11';
  const svc = service({
    hostname: 'b.default.svc.cluster.local',
    vips: [{ network: '', address: vip }],
    ports: [{ servicePort: 80, targetPort: 0, appProtocol: 'TCP' }],
  });
  const ca = await startTestCa(t);
  const app = await startHashApp(t, B_IP, ':direct');
  const behind = {
    ...B,
    waypoint: wpAddress,
    services: { [`default/${svc.hostname}`]: [{ servicePort: 80, targetPort: app }] },
  };
  const [s1, s2] = stores(2, [A, waypointWorkload, behind], [svc]);
  const z2 = await startTestZtunnel(t, ca, { token: 'tok-zt2', inboundHost: B_IP, store: s2! });
  const z1 = await startTestZtunnel(t, ca, {
    token: 'tok-zt1',
    inboundHost: A_IP,
    hbonePort: z2.proxies.ports.inbound,
    store: s1!,
  });
  // Addressed to the service: straight to B, and B's ztunnel admits the client (the service has
  // no waypoint, so this is a legitimate way in).
  z1.destination = { address: vip, port: 80 };
  const r = await exchange(z1.proxies.ports.outbound, Buffer.from('x'), A_IP);
  assert.ok('reply' in r && r.reply.endsWith(':direct'), JSON.stringify(r));
  assert.equal(z1.accessLog[0]?.via, undefined);
  assert.equal(z2.accessLog[0]?.decision, 'allow');
  // Addressed to the pod: to its waypoint (which is not running here: the connection fails there).
  z1.destination = { address: B_IP, port: app };
  await exchange(z1.proxies.ports.outbound, Buffer.from('x'), A_IP);
  const viaWaypoint = await eventually('the pod-addressed attempt', () => z1.accessLog[1]);
  assert.equal(viaWaypoint.via, '127.0.30.1:15008');
});

function socketPair(): Promise<[net.Socket, net.Socket]> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true }, (far) => {
      server.close();
      resolve([near, far]);
    });
    let near: net.Socket;
    server.listen(0, '127.0.0.1', () => {
      near = net.connect({
        port: (server.address() as net.AddressInfo).port,
        host: '127.0.0.1',
        allowHalfOpen: true,
      });
      near.on('error', reject);
    });
  });
}
