// The ingress gateway from the host: a Gateway of class `trellis` in namespace e2e-ingress (not
// enrolled) gets a LoadBalancer address from the cluster's load-balancer controller (local or kind); the host
// speaks HTTPS to it with SNI for two hosts (two certificates, two Secrets, made here with the
// repo's PKI) and is routed by path to the sample's echo v1/v2 in e2e-mesh (enrolled), reached over
// HBONE (the destination ztunnel logs the gateway's SPIFFE identity). Then: an L4 DENY naming the
// gateway's principal, the HTTP listener's redirect to https, a gRPC call through a GRPCRoute, TLS
// passthrough (TLSRoute) to an echo that terminates TLS itself, a certificate Secret replaced
// under the running gateway, and a rolling update of the gateway losing no request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { eventually } from '@trellis/core/test-support';
import { EchoTestService } from '@trellis/echo/proto';
import {
  hostCert,
  httpsRequest,
  ingressRoot,
  request,
  tlsExchange,
  type HostCert,
  type TlsReply,
} from '@trellis/waypoint/test-support';
import { ISTIO_ECHO_IMAGE, slotDeployment } from '../harness/sample.js';
import { suite } from '../harness/suite.js';
import { gatewayView } from '../harness/admin.js';
import { accessLog } from '../harness/ztunnel-log.js';

const s = suite();
// The host talks to the Gateway at its LoadBalancer address, which the cluster's load-balancer
// controller gives (on kind too: `trellis cluster create --provider kind` starts one on the host).
const needs = s.needs('cni', 'ztunnel');
const NS = 'e2e-ingress';
const MESH = 'e2e-mesh';
const GATEWAY = 'edge';
/** The gateway's Deployment, Service and ServiceAccount: `<gateway>-<class>` (Istio's name). */
const GATEWAY_WORKLOAD = `${GATEWAY}-trellis`;
const GATEWAY_PRINCIPAL = `cluster.local/ns/${NS}/sa/${GATEWAY_WORKLOAD}`;
const [A, B, GRPC, PASS] = ['a', 'b', 'grpc', 'pass'].map((h) => `${h}.ingress.e2e.trellis.dev`);
const HTTPS = 443;
const PASSTHROUGH = 8443;
const GW = 'gateway.networking.k8s.io/v1';
const WAIT = { timeoutMs: 60_000, intervalMs: 250 };

const tlsSecret = (name: string, namespace: string, c: HostCert) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace },
  type: 'kubernetes.io/tls',
  stringData: { 'tls.crt': c.certChain, 'tls.key': c.privateKey },
});

/** Istio's echo (packages/echo on a local cluster) with a gRPC port and a TLS port of its own. */
const ECHO_TLS = [
  slotDeployment({
    namespace: MESH,
    name: 'echo-tls',
    labels: { app: 'echo-tls' },
    serviceAccount: 'echo',
    slot: 2,
    container: {
      name: 'echo',
      image: ISTIO_ECHO_IMAGE,
      args: [
        '--port=8080,8443',
        '--grpc=7070',
        '--tls=8443',
        '--crt=/etc/pass/tls.crt',
        '--key=/etc/pass/tls.key',
        '--version=tls',
      ],
      volumeMounts: [{ name: 'cert', mountPath: '/etc/pass', readOnly: true }],
      readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
    },
    volumes: [{ name: 'cert', secret: { secretName: 'pass-cert' } }],
  }),
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo-tls', namespace: MESH },
    spec: {
      selector: { app: 'echo-tls' },
      ports: [
        { name: 'grpc', port: 7070 },
        { name: 'tls', port: 443, targetPort: 8443 },
      ],
    },
  },
];

/** A route in e2e-ingress attached to one listener of the Gateway. */
const route = (
  kind: string,
  name: string,
  sectionName: string,
  hostnames: string[],
  rules: object[],
) => ({
  apiVersion: GW,
  kind,
  metadata: { name, namespace: NS },
  spec: { parentRefs: [{ name: GATEWAY, sectionName }], hostnames, rules },
});

const GATEWAY_OBJECTS = [
  {
    apiVersion: GW,
    kind: 'Gateway',
    metadata: { name: GATEWAY, namespace: NS },
    spec: {
      gatewayClassName: 'trellis',
      listeners: [
        { name: 'http', port: 80, protocol: 'HTTP' },
        {
          name: 'https',
          port: HTTPS,
          protocol: 'HTTPS',
          tls: { certificateRefs: [{ name: 'a-cert' }, { name: 'b-cert' }] },
        },
        {
          name: 'passthrough',
          port: PASSTHROUGH,
          protocol: 'TLS',
          hostname: PASS,
          tls: { mode: 'Passthrough' },
        },
      ],
    },
  },
  route(
    'HTTPRoute',
    'to-https',
    'http',
    [A, B],
    [
      {
        filters: [
          { type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } },
        ],
      },
    ],
  ),
  // `/both` goes to Service echo (v1 and v2): a backend the gateway has no connection to before
  // the DENY test.
  route(
    'HTTPRoute',
    'echo',
    'https',
    [A, B],
    ['v1', 'v2', ''].map((v) => ({
      matches: [{ path: { type: 'PathPrefix', value: `/${v || 'both'}` } }],
      backendRefs: [{ name: v ? `echo-${v}` : 'echo', namespace: MESH, port: 80 }],
    })),
  ),
  route(
    'GRPCRoute',
    'echo-grpc',
    'https',
    [GRPC],
    [
      {
        matches: [{ method: { service: 'proto.EchoTestService', method: 'Echo' } }],
        backendRefs: [{ name: 'echo-tls', namespace: MESH, port: 7070 }],
      },
    ],
  ),
  route(
    'TLSRoute',
    'echo-tls',
    'passthrough',
    [PASS],
    [{ backendRefs: [{ name: 'echo-tls', namespace: MESH, port: 443 }] }],
  ),
  {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: 'from-e2e-ingress', namespace: MESH },
    spec: {
      from: ['HTTPRoute', 'GRPCRoute', 'TLSRoute'].map((kind) => ({
        group: 'gateway.networking.k8s.io',
        kind,
        namespace: NS,
      })),
      to: [{ group: '', kind: 'Service' }],
    },
  },
];

/** The gateway's principal denied at the echo workloads (L4, enforced by their ztunnel). */
const DENY_GATEWAY = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'deny-ingress-gateway', namespace: MESH },
  spec: {
    selector: { matchLabels: { app: 'echo' } },
    action: 'DENY',
    rules: [{ from: [{ source: { principals: [GATEWAY_PRINCIPAL] } }] }],
  },
};

let root: Awaited<ReturnType<typeof ingressRoot>>;
let certs: Record<'a' | 'b' | 'pass', HostCert>;
let address = '';
const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

/** SHA-256 fingerprint (Node's colon form) of the leaf of a PEM chain. */
const fingerprintOf = (c: HostCert) => new X509Certificate(c.certChain).fingerprint256;

const https = (host: string, path: string) =>
  httpsRequest(HTTPS, host, root.cert, { path, address });

/** The sample echo's JSON answer (packages/local-cluster/src/echo-server.ts). */
const echoAnswer = (r: TlsReply) =>
  JSON.parse(r.body) as {
    pod: string;
    node: string;
    path: string;
    headers: Record<string, string>;
  };

function gatewayPod(): { name: string; uid: string; restarts: number } {
  const pod = s.kubectl
    .getJson('pods', '-n', NS, '-l', `gateway.networking.k8s.io/gateway-name=${GATEWAY}`)
    .items.find((p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp);
  assert.ok(pod, `no gateway pod in ${NS}`);
  return {
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    restarts: pod.status.containerStatuses?.[0]?.restartCount ?? 0,
  };
}

/** Runs `body`; on a failure, first prints the gateway's view of echo-tls (both tests route there). */
async function withGatewayView(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    console.log(
      `the gateway's view of echo-tls: ${gatewayView(s.kubectl, NS, gatewayPod().name, 'echo-tls')}`,
    );
    throw err;
  }
}

const available = (namespace: string, name: string) => {
  const d = s.kubectl.tryGet('deployment', '-n', namespace, name);
  return (d?.status?.availableReplicas ?? 0) >= 1;
};

before(async () => {
  if (needs.skip) return;
  removeObjects();
  root = await ingressRoot();
  certs = {
    a: await hostCert(root, A),
    b: await hostCert(root, B, GRPC),
    pass: await hostCert(root, PASS),
  };
  s.kubectl.apply([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    tlsSecret('a-cert', NS, certs.a),
    tlsSecret('b-cert', NS, certs.b),
    tlsSecret('pass-cert', MESH, certs.pass),
    ...ECHO_TLS,
    ...GATEWAY_OBJECTS,
  ]);
});

/** Removes what this file creates (also first: a run interrupted before its cleanup left them). */
function removeObjects(): void {
  s.kubectl.run(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true', '--timeout=60s']);
  s.kubectl.run([
    'delete',
    '-n',
    MESH,
    '--ignore-not-found',
    'deployment/echo-tls',
    'service/echo-tls',
    'secret/pass-cert',
    'referencegrant/from-e2e-ingress',
    `authorizationpolicy/${DENY_GATEWAY.metadata.name}`,
  ]);
}

after(() => {
  if (!needs.skip) removeObjects();
});

test(
  'HTTPS with SNI for two hosts: each gets its certificate, the path picks echo v1 or v2, over HBONE as the gateway',
  needs,
  async () => {
    const gw = await eventually(
      `Gateway ${NS}/${GATEWAY} Programmed with an address`,
      () => {
        const g = s.kubectl.getJson('gateway', '-n', NS, GATEWAY);
        const programmed = g.status?.conditions?.find(
          (c: { type: string }) => c.type === 'Programmed',
        );
        return programmed?.status === 'True' && g.status.addresses?.length > 0 && g;
      },
      {
        ...WAIT,
        detail: () => JSON.stringify(s.kubectl.getJson('gateway', '-n', NS, GATEWAY).status),
      },
    );
    address = gw.status.addresses[0].value;
    const svc = s.kubectl.getJson('service', '-n', NS, GATEWAY_WORKLOAD);
    assert.equal(svc.spec.type, 'LoadBalancer');
    assert.equal(svc.status.loadBalancer.ingress[0].ip, address, 'the address is the LB address');
    console.log(`Gateway Programmed at ${address} after ${since()}`);
    await eventually(
      `Deployment ${NS}/${GATEWAY_WORKLOAD} Available`,
      () => available(NS, GATEWAY_WORKLOAD),
      WAIT,
    );
    await eventually(
      `Deployment ${MESH}/echo-tls Available`,
      () => available(MESH, 'echo-tls'),
      WAIT,
    );
    console.log(`gateway and echo-tls Deployments Available after ${since()}`);

    const first = await eventually(
      `https://${A}/v1 answered 200 through ${address}`,
      async () => {
        const r = await https(A, '/v1/first');
        return r.status === 200 && r;
      },
      WAIT,
    );
    console.log(`first HTTPS 200 from the host after ${since()}`);
    assert.equal(first.fingerprint, fingerprintOf(certs.a));

    for (const [host, cert] of [
      [A, certs.a],
      [B, certs.b],
    ] as const) {
      for (const v of ['v1', 'v2']) {
        const r = await https(host, `/${v}/hello`);
        assert.equal(r.status, 200, `${host}/${v}: ${r.body}`);
        assert.equal(r.fingerprint, fingerprintOf(cert), `${host}: the certificate of its Secret`);
        assert.match(r.san, new RegExp(`DNS:${host.replace(/\./g, '\\.')}`));
        const answer = echoAnswer(r);
        assert.match(answer.pod, new RegExp(`^echo-${v}-`), `${host}/${v} served by ${answer.pod}`);
        assert.equal(answer.path, `/${v}/hello`);
        assert.equal(answer.headers['host'], host);
      }
    }

    // echo-v2 runs on node 2: its ztunnel took the connection over HBONE from the gateway. The
    // record is written when the connection ends: the echo closes idle keep-alive connections
    // after a few seconds, and the gateway then ends its pooled connection too — a clean close,
    // not an error.
    const v2 = s.kubectl.getJson('pods', '-n', MESH, '-l', 'app=echo,version=v2').items[0];
    const record = await eventually(
      `an inbound HBONE record from the gateway in the ztunnel on ${v2.spec.nodeName}`,
      () =>
        accessLog(s.kubectl, v2.spec.nodeName).find(
          (x) =>
            x.direction === 'inbound' &&
            x.protocol === 'hbone' &&
            x.srcIdentity === `spiffe://${GATEWAY_PRINCIPAL}` &&
            x.srcWorkload === `${NS}/${gatewayPod().name}` &&
            x.dstWorkload === `${MESH}/${v2.metadata.name}` &&
            x.bytesSent > 0,
        ),
      WAIT,
    );
    console.log(`destination ztunnel: ${JSON.stringify(record)}`);
    assert.equal(record.decision, 'allow', `a clean close: ${JSON.stringify(record)}`);
  },
);

test(
  "an L4 DENY naming the gateway's principal turns the 200 into a 503; removed, the 200 comes back",
  needs,
  async () => {
    const nodes = s.kubectl
      .getJson('pods', '-n', MESH, '-l', 'app=echo')
      .items.map((p: { spec: { nodeName: string } }) => p.spec.nodeName) as string[];
    const gateway = `${NS}/${gatewayPod().name}`;
    const started = Date.now();
    s.kubectl.apply([DENY_GATEWAY]);
    try {
      // Every echo node's ztunnel holds the policy before the first request.
      let polls = 0;
      for (const node of new Set(nodes))
        await eventually(
          `the ztunnel on ${node} holding ${MESH}/${DENY_GATEWAY.metadata.name}`,
          async () => {
            polls++;
            const r = await s.trellis('ztunnel-config', 'policies', '--node', node, '-n', MESH);
            return r.stdout.includes(DENY_GATEWAY.metadata.name);
          },
          WAIT,
        );
      const denied = await https(A, '/both/denied');
      console.log(
        `under the DENY (policy at the ztunnels ${((Date.now() - started) / 1000).toFixed(1)}s after apply, ${polls} trellis ztunnel-config calls): ${denied.status} ${JSON.stringify(denied.body)}`,
      );
      assert.equal(denied.status, 503, denied.body);
      const record = await eventually(
        `a denial of the gateway (${gateway}) in the ztunnel on ${nodes.join(' or ')}`,
        () =>
          nodes
            .flatMap((n) => accessLog(s.kubectl, n))
            .find(
              (x) =>
                x.direction === 'inbound' &&
                x.decision === 'deny' &&
                x.srcIdentity === `spiffe://${GATEWAY_PRINCIPAL}` &&
                x.srcWorkload === gateway,
            ),
        WAIT,
      );
      console.log(`destination ztunnel: ${JSON.stringify(record)}`);
      // The connection the gateway pools to echo-v1 since the first test was opened before the
      // DENY: the ztunnel re-decides open connections on a policy change and closes it.
      await eventually(
        '/v1 (pooled from before the DENY) refused too: the open connection was closed',
        async () => (await https(A, '/v1/open')).status === 503,
        WAIT,
      );
    } finally {
      s.kubectl.run(['delete', '-n', MESH, 'authorizationpolicy', DENY_GATEWAY.metadata.name]);
    }
    const back = Date.now();
    await eventually(
      'the 200 back once the DENY is removed',
      async () => (await https(A, '/both/allowed')).status === 200,
      WAIT,
    );
    console.log(`200 again ${((Date.now() - back) / 1000).toFixed(1)}s after the DENY was deleted`);
  },
);

test(
  'the HTTP listener redirects to https (RequestRedirect scheme https: 301)',
  needs,
  async () => {
    const r = await request(80, { address, path: '/v2/page?q=1', headers: { host: A } });
    assert.equal(r.status, 301, r.body);
    assert.equal(r.headers.location, `https://${A}/v2/page?q=1`);
  },
);

test('a gRPC call through a GRPCRoute (TLS, SNI and authority grpc host)', needs, () =>
  withGatewayView(async () => {
    type EchoClient = Client & {
      echo(
        req: { message: string },
        md: Metadata,
        cb: (err: ServiceError | null, res?: { message: string }) => void,
      ): void;
    };
    const client = new EchoTestService(
      `${address}:${HTTPS}`,
      credentials.createSsl(Buffer.from(root.cert)),
      { 'grpc.ssl_target_name_override': GRPC, 'grpc.default_authority': GRPC },
    ) as unknown as EchoClient;
    try {
      const reply = await new Promise<string>((resolve, reject) =>
        client.echo({ message: 'through the gateway' }, new Metadata(), (err, res) =>
          err ? reject(err) : resolve(res!.message),
        ),
      );
      assert.match(reply, /^Echo=through the gateway$/m);
      assert.match(reply, /^ServiceVersion=tls$/m);
      assert.match(reply, /^Proto=GRPC$/m);
      assert.match(reply, new RegExp(`^Host=${GRPC.replace(/\./g, '\\.')}$`, 'm'));
    } finally {
      client.close();
    }
  }),
);

test(
  'TLS passthrough: the backend terminates TLS with its own certificate, chosen by SNI',
  needs,
  () =>
    withGatewayView(async () => {
      const r = await tlsExchange(
        PASSTHROUGH,
        PASS,
        root.cert,
        `GET /passthrough HTTP/1.1\r\nHost: ${PASS}\r\nConnection: close\r\n\r\n`,
        address,
      );
      assert.equal(r.san, `DNS:${PASS}`, "the backend's certificate, not one of the gateway's");
      assert.match(r.reply, /^HTTP\/1\.1 200/);
      assert.match(r.reply, /^ServiceVersion=tls$/m);
      assert.match(r.reply, new RegExp(`^Sni=${PASS.replace(/\./g, '\\.')}$`, 'm'));
      await assert.rejects(
        tlsExchange(PASSTHROUGH, A, root.cert, 'x', address),
        'another SNI has no route on the passthrough listener',
      );
    }),
);

test(
  'a replaced certificate Secret is served at the next handshake, the gateway pod not restarted',
  needs,
  async () => {
    const pod = gatewayPod();
    const renewed = await hostCert(root, A);
    const started = Date.now();
    s.kubectl.apply([tlsSecret('a-cert', NS, renewed)]);
    await eventually(
      `https://${A} presenting the renewed certificate`,
      async () => (await https(A, '/v1/rotated')).fingerprint === fingerprintOf(renewed),
      WAIT,
    );
    console.log(
      `renewed certificate served ${((Date.now() - started) / 1000).toFixed(1)}s after the Secret changed`,
    );
    assert.equal((await https(B, '/v2/')).fingerprint, fingerprintOf(certs.b), 'B unchanged');
    assert.deepEqual(gatewayPod(), pod, 'same gateway pod, no container restart');
  },
);

test(
  'a rolling update of the gateway loses no request: the load balancer catches up while the old pod still serves',
  needs,
  async () => {
    const before = gatewayPod().name;
    const outcomes: string[] = [];
    let running = true;
    // From the host: a new connection (TLS handshake included) every 50 ms.
    const requests = (async () => {
      for (let n = 0; running; n++) {
        outcomes.push(
          await httpsRequest(HTTPS, A, root.cert, { path: `/v1/roll-${n}`, address, agent: false })
            .then((r) => String(r.status))
            .catch((err: Error) => err.message),
        );
        await sleep(50);
      }
    })();
    try {
      await sleep(2000);
      s.kubectl.run(['rollout', 'restart', '-n', NS, `deployment/${GATEWAY_WORKLOAD}`]);
      s.kubectl.run([
        'rollout',
        'status',
        '-n',
        NS,
        `deployment/${GATEWAY_WORKLOAD}`,
        '--timeout=120s',
      ]);
      await sleep(2000);
    } finally {
      running = false;
      await requests;
    }
    assert.notEqual(gatewayPod().name, before, 'the gateway pod was replaced');
    const failed = outcomes.filter((o) => o !== '200');
    assert.ok(outcomes.length >= 30, `requests made during the update: ${outcomes.length}`);
    assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} requests failed`);
    console.log(
      `# ${outcomes.length} requests during the gateway rolling update, all answered 200`,
    );
  },
);
