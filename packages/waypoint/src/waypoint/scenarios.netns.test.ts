// The waypoint's end-to-end scenarios on network-namespace nodes (root): the real control plane
// (config dir: the manifests below), ztunnels in in-pod mode with WDS, the waypoint binary, apps
// and clients in pod namespaces. These are the e2e scenarios of the waypoint issue, written
// against pod names, service VIPs and manifests so they move to a cluster suite unchanged:
//   90/10 split over 1,000 requests; header-match routing; retries turning 503s into 200s; a
//   timeout giving 504; an L7 DENY by path (403) while other paths pass; a JWT-required service
//   (valid, expired, missing token); a direct HBONE connection that skips the waypoint refused by
//   the destination ztunnel; metrics by response code; traces at an OTLP receiver; pod-addressed
//   HTTP and TCP through the waypoint (waypoint-for: all) with the Gateway's L7 policy.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, rootOnly } from '@trellis/core/test-support';
import { HboneClient, HboneStatusError } from '@trellis/hbone';
import { connectInNetns } from '@trellis/netsys';
import { generateKeyPair, issueWorkloadCertificate, parseTrustBundle } from '@trellis/pki';
import { metricSum } from '../test-support/apps.js';
import { testIssuer } from '../test-support/jwt.js';
import { MESH_NS, startNetnsMesh, type NetnsMesh } from '../test-support/netns-mesh.js';

const sso = testIssuer('https://sso.example.com');
const gw = 'gateway.networking.k8s.io/v1';

const ECHO = 'http://10.96.10.1';
const FLAKY = 'http://10.96.10.4';
const SLOW = 'http://10.96.10.5';
const SECURE = 'http://10.96.10.6';

const extra = [
  {
    apiVersion: gw,
    kind: 'HTTPRoute',
    metadata: { name: 'echo', namespace: MESH_NS },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'echo', port: 80 }],
      rules: [
        {
          matches: [{ headers: [{ name: 'x-canary', value: 'yes' }] }],
          backendRefs: [{ name: 'echo-v2', port: 80 }],
        },
        {
          backendRefs: [
            { name: 'echo-v1', port: 80, weight: 90 },
            { name: 'echo-v2', port: 80, weight: 10 },
          ],
        },
      ],
    },
  },
  {
    apiVersion: gw,
    kind: 'HTTPRoute',
    metadata: { name: 'flaky', namespace: MESH_NS },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'flaky', port: 80 }],
      rules: [
        {
          backendRefs: [{ name: 'flaky', port: 80 }],
          retry: { attempts: 3, codes: [503], backoff: '10ms' },
        },
      ],
    },
  },
  {
    apiVersion: gw,
    kind: 'HTTPRoute',
    metadata: { name: 'slow', namespace: MESH_NS },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'slow', port: 80 }],
      rules: [{ backendRefs: [{ name: 'slow', port: 80 }], timeouts: { request: '500ms' } }],
    },
  },
  {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'no-admin', namespace: MESH_NS },
    spec: {
      targetRefs: [{ group: '', kind: 'Service', name: 'echo' }],
      action: 'DENY',
      rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }],
    },
  },
  {
    // Bound to the waypoint's Gateway: applies to pod-addressed traffic too (waypoint-for: all).
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'pods-no-admin', namespace: MESH_NS },
    spec: {
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }],
      action: 'DENY',
      rules: [{ to: [{ operation: { ports: ['8080'], paths: ['/pod-admin*'] } }] }],
    },
  },
  {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: 'sso', namespace: MESH_NS },
    spec: {
      targetRefs: [{ group: '', kind: 'Service', name: 'secure' }],
      jwtRules: [{ issuer: sso.issuer, jwks: sso.jwks }],
    },
  },
  {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'require-jwt', namespace: MESH_NS },
    spec: {
      targetRefs: [{ group: '', kind: 'Service', name: 'secure' }],
      action: 'ALLOW',
      rules: [{ from: [{ source: { requestPrincipals: [`${sso.issuer}/*`] } }] }],
    },
  },
];

let mesh: NetnsMesh;
let flakyCalls = 0;

describe('waypoint scenarios on netns nodes', rootOnly('network namespaces, iptables'), () => {
  before(async () => {
    mesh = await startNetnsMesh({
      waypointFor: 'all',
      pods: [
        { name: 'client-0', node: 1, sa: 'client', labels: { app: 'client' } },
        { name: 'outsider-0', node: 1, sa: 'outsider', ns: 'other', outsideMesh: true },
        {
          name: 'waypoint-0',
          node: 1,
          sa: 'waypoint',
          outsideMesh: true,
          labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' },
        },
        { name: 'echo-v1-0', node: 2, sa: 'echo', labels: { app: 'echo', version: 'v1' } },
        { name: 'echo-v2-0', node: 2, sa: 'echo', labels: { app: 'echo', version: 'v2' } },
        { name: 'flaky-0', node: 2, sa: 'flaky', labels: { app: 'flaky' } },
        { name: 'slow-0', node: 2, sa: 'slow', labels: { app: 'slow' } },
        { name: 'secure-0', node: 2, sa: 'secure', labels: { app: 'secure' } },
      ],
      services: [
        { name: 'echo', vip: '10.96.10.1', selector: { app: 'echo' } },
        { name: 'echo-v1', vip: '10.96.10.2', selector: { app: 'echo', version: 'v1' } },
        { name: 'echo-v2', vip: '10.96.10.3', selector: { app: 'echo', version: 'v2' } },
        { name: 'flaky', vip: '10.96.10.4', selector: { app: 'flaky' } },
        { name: 'slow', vip: '10.96.10.5', selector: { app: 'slow' } },
        { name: 'secure', vip: '10.96.10.6', selector: { app: 'secure' } },
      ],
      extra,
    });
    const echo =
      (version: string) =>
      (req: { url?: string }, _body: string, res: import('node:http').ServerResponse) =>
        res.end(`${version} ${req.url}`);
    await mesh.serve('echo-v1-0', 8080, echo('v1'));
    await mesh.serve('echo-v2-0', 8080, echo('v2'));
    await mesh.serve('flaky-0', 8080, (_req, _b, res) => {
      flakyCalls++;
      res.statusCode = flakyCalls % 3 === 0 ? 200 : 503;
      res.end(res.statusCode === 200 ? 'recovered' : 'flaky');
    });
    await mesh.serve('slow-0', 8080, (_req, _b, res) => setTimeout(() => res.end('late'), 3000));
    await mesh.serve('secure-0', 8080, (req, _b, res) =>
      res.end(`secret for ${req.headers['authorization'] ? 'a token' : 'nobody'}`),
    );
  });

  after(async () => {
    if (mesh) await mesh.close();
  });

  test('90/10 split over 1,000 requests within 3 %; a header match sends canaries to v2', async () => {
    const counts: Record<string, number> = { v1: 0, v2: 0 };
    for (let i = 0; i < 1000; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, j) => mesh.request('client-0', `${ECHO}/split/${i + j}`)),
      );
      for (const r of batch) {
        assert.equal(r.status, 200, r.body);
        counts[r.body.split(' ')[0]!]!++;
      }
    }
    assert.equal(counts.v1! + counts.v2!, 1000);
    assert.ok(Math.abs(counts.v2! - 100) <= 30, `v2 got ${counts.v2} of 1000 (want 100 +- 30)`);
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await mesh.request('client-0', `${ECHO}/c`, { headers: { 'x-canary': 'yes' } })).body,
        'v2 /c',
      );
  });

  test("retries turn a flaky backend's 503s into 200s; a timeout gives 504", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await mesh.request('client-0', `${FLAKY}/x`);
      assert.deepEqual([r.status, r.body], [200, 'recovered']);
    }
    const t0 = Date.now();
    const slow = await mesh.request('client-0', `${SLOW}/x`);
    assert.deepEqual([slow.status, slow.body], [504, 'upstream request timeout']);
    assert.ok(Date.now() - t0 < 2500);
  });

  test('an L7 DENY by path answers 403 while other paths pass', async () => {
    const denied = await mesh.request('client-0', `${ECHO}/admin/users`, {
      headers: { 'x-canary': 'yes' },
    });
    assert.deepEqual([denied.status, denied.body], [403, 'RBAC: access denied']);
    assert.equal(
      (await mesh.request('client-0', `${ECHO}/public`, { headers: { 'x-canary': 'yes' } })).status,
      200,
    );
  });

  test('pod-addressed HTTP goes through the waypoint (waypoint-for: all): Gateway-bound L7 DENY, telemetry', async () => {
    const pod = mesh.pods.get('echo-v1-0')!;
    const ok = await mesh.request('client-0', `http://${pod.ip}:8080/hello`);
    assert.deepEqual([ok.status, ok.body], [200, 'v1 /hello']);
    const denied = await mesh.request('client-0', `http://${pod.ip}:8080/pod-admin/x`);
    assert.deepEqual([denied.status, denied.body], [403, 'RBAC: access denied']);
    const m = (await mesh.waypointGet(15020, '/metrics')).body;
    const direct = (labels: Record<string, string>) =>
      metricSum(m, 'istio_requests_total', {
        reporter: 'waypoint',
        source_principal: 'spiffe://cluster.local/ns/demo/sa/client',
        destination_service: 'unknown',
        ...labels,
      });
    assert.ok(direct({ destination_workload: 'echo-v1-0', response_code: '200' }) >= 1, m);
    assert.ok(direct({ response_code: '403' }) >= 1, 'the denial of pod-addressed traffic');
    // Service-addressed requests still take the service's chain and routes (not the pod's).
    const viaService = await mesh.request('client-0', `${ECHO}/pod-admin/x`, {
      headers: { 'x-canary': 'yes' },
    });
    assert.deepEqual([viaService.status, viaService.body], [200, 'v2 /pod-admin/x']);
  });

  test('pod-addressed TCP of a server-first protocol passes through the waypoint (direct-tcp)', async () => {
    const pod = mesh.pods.get('echo-v2-0')!;
    await mesh.serveTcp('echo-v2-0', 9000, (s) => {
      s.write('hello\n');
      s.on('data', (d: Buffer) => s.end(`echo ${d.toString()}`));
    });
    const c = await mesh.connect('client-0', pod.ip, 9000);
    let got = '';
    c.on('data', (d: Buffer) => {
      got += d.toString();
      if (got === 'hello\n') c.write('ping');
    });
    await new Promise<void>((resolve, reject) => {
      c.on('end', resolve);
      c.on('error', reject);
    });
    c.destroy();
    assert.equal(got, 'hello\necho ping');
    const m = (await mesh.waypointGet(15020, '/metrics')).body;
    assert.ok(
      metricSum(m, 'istio_tcp_connections_opened_total', {
        reporter: 'waypoint',
        destination_workload: 'echo-v2-0',
      }) >= 1,
      'the waypoint carried it',
    );
  });

  test('a JWT-required service: valid token 200, expired 401, missing 403', async () => {
    const ok = await mesh.request('client-0', `${SECURE}/data`, {
      headers: { authorization: `Bearer ${sso.token({ sub: 'alice' })}` },
    });
    assert.deepEqual(
      [ok.status, ok.body],
      [200, 'secret for nobody'],
      'valid, and the token is not forwarded',
    );
    const expired = await mesh.request('client-0', `${SECURE}/data`, {
      headers: { authorization: `Bearer ${sso.token({ sub: 'alice' }, { expiresIn: -300 })}` },
    });
    assert.deepEqual([expired.status, expired.body], [401, 'Jwt is expired']);
    const missing = await mesh.request('client-0', `${SECURE}/data`);
    assert.deepEqual([missing.status, missing.body], [403, 'RBAC: access denied']);
  });

  test('a client that skips the waypoint is refused by the destination ztunnel (only via the waypoint)', async () => {
    // A valid mesh identity (signed by the mesh root) connecting to echo-v1's HBONE port directly.
    const dir = join(mesh.dir, 'ca');
    const cert = readFileSync(join(dir, 'ca-cert.pem'), 'utf8');
    const root = { cert, key: readFileSync(join(dir, 'ca-key.pem'), 'utf8'), chain: [cert] };
    const keys = await generateKeyPair();
    const issued = await issueWorkloadCertificate({
      publicKey: keys.publicKey,
      identity: 'spiffe://cluster.local/ns/other/sa/outsider',
      issuer: root,
      ttlMs: 3_600_000,
    });
    const outsider = mesh.pods.get('outsider-0')!;
    const target = mesh.pods.get('echo-v1-0')!;
    const client = new HboneClient({
      connectSocket: (o) => connectInNetns(outsider.netnsPath, { host: o.host, port: o.port }),
    });
    try {
      await assert.rejects(
        client.connect({
          source: {
            key: keys.privateKey,
            certChain: issued.chain,
            trustBundle: parseTrustBundle(root.cert, { trustDomain: 'cluster.local' }),
          },
          destinationIdentity: 'spiffe://cluster.local/ns/demo/sa/echo',
          destinationIp: target.ip,
          target: `${target.ip}:8080`,
        }),
        (err: unknown) => err instanceof HboneStatusError && err.status === 401,
      );
    } finally {
      await client.close();
    }
  });

  test('waypoint metrics by response code, and traces at the OTLP receiver', async () => {
    const m = (await mesh.waypointGet(15020, '/metrics')).body;
    // destination_service is the backend the route chose (Istio reports the upstream cluster's service).
    const to = (svc: string, code: string) =>
      metricSum(m, 'istio_requests_total', {
        reporter: 'waypoint',
        destination_service: `${svc}.demo.svc.cluster.local`,
        response_code: code,
      });
    assert.ok(
      to('echo-v1', '200') >= 850 && to('echo-v2', '200') >= 70,
      `echo-v1 ${to('echo-v1', '200')}, echo-v2 ${to('echo-v2', '200')}`,
    );
    assert.ok(
      metricSum(m, 'istio_requests_total', { response_code: '403', response_flags: '-' }) >= 1,
      'the RBAC denial is counted',
    );
    assert.ok(
      metricSum(m, 'istio_requests_total', {
        destination_service: 'slow.demo.svc.cluster.local',
        response_code: '504',
        response_flags: 'UT',
      }) >= 1,
    );
    assert.ok(
      metricSum(m, 'istio_requests_total', {
        destination_service: 'secure.demo.svc.cluster.local',
        response_code: '401',
      }) >= 1,
    );
    assert.ok(
      metricSum(m, 'istio_requests_total', {
        source_principal: 'spiffe://cluster.local/ns/demo/sa/client',
        connection_security_policy: 'mutual_tls',
      }) >= 1000,
    );
    const timeout = await eventually(
      'a span for the 504',
      () => mesh.spans.find((s) => s.attributes['http.status_code'] === '504'),
      { timeoutMs: 10_000, detail: () => `got ${mesh.spans.length} spans` },
    );
    assert.equal(timeout.service, 'waypoint.demo');
    assert.equal(
      timeout.attributes['upstream_cluster'],
      'outbound|80||slow.demo.svc.cluster.local',
    );
  });
});
