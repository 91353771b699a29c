// The waypoint (L7) through the real install: `trellis waypoint apply --enroll-namespace` makes the
// control plane deploy trellis-waypoint for namespace e2e-waypoint, then HTTPRoutes (parentRef the
// Service) and policies (targetRefs the waypoint Gateway) are served by it: a 90/10 split over
// 1,000 requests, header routing, retries, a timeout, an L7 DENY by path, a JWT-required path,
// metrics by response code from the waypoint's 15020 and traces at an OTLP collector this test
// runs; a client that skips the waypoint (direct to a pod) is refused by the destination
// ztunnel when the workloads admit only the waypoint; and a rolling update of the waypoint loses
// no request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { layoutOf } from '@trellis/local-cluster';
import {
  metricSum,
  startOtlpReceiver,
  testIssuer,
  type ReceivedSpan,
} from '@trellis/waypoint/test-support';
import { OTLP_COLLECTOR } from '../harness/install.js';
import { routePodsToHost } from '../harness/kind-pod-routes.js';
import { ISTIO_ECHO_IMAGE, slotDeployment } from '../harness/sample.js';
import { REPO, suite } from '../harness/suite.js';
import { rolloutLosesNoRequest } from '../harness/rollout.js';
import { curlFrom, curlUntil, podOf, type CurlResult } from '../harness/traffic.js';
import { accessLog } from '../harness/ztunnel-log.js';

const s = suite();
const needs = s.needs('exec', 'cni', 'ztunnel');
const NS = 'e2e-waypoint';
const ECHO = `http://echo.${NS}.svc.cluster.local`;
const WAYPOINT_ID = `cluster.local/ns/${NS}/sa/waypoint`;
const CLI_VERSION = (
  JSON.parse(readFileSync(join(REPO, 'packages/cli/package.json'), 'utf8')) as { version: string }
).version;
const sso = testIssuer('https://sso.e2e.trellis.dev');
const client = () => ({ namespace: NS, pod: podOf(s.kubectl, NS, 'client') });

/** Istio echo (the conformance suite's echo-advanced image) as version v1 or v2, on node 2. */
const echo = (version: string) =>
  slotDeployment({
    namespace: NS,
    name: `echo-${version}`,
    labels: { app: 'echo', version },
    serviceAccount: 'echo',
    slot: 2,
    container: {
      name: 'echo',
      image: ISTIO_ECHO_IMAGE,
      args: ['--port=8080', `--version=${version}`],
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 2 },
    },
  });
const service = (name: string, selector: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS },
  spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});
const sa = (name: string) => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name, namespace: NS },
});

const APPS = [
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NS, labels: { 'istio.io/dataplane-mode': 'ambient' } },
  },
  sa('echo'),
  sa('client'),
  echo('v1'),
  echo('v2'),
  service('echo', { app: 'echo' }),
  service('echo-v1', { app: 'echo', version: 'v1' }),
  service('echo-v2', { app: 'echo', version: 'v2' }),
  slotDeployment({
    namespace: NS,
    name: 'client',
    labels: { app: 'client' },
    serviceAccount: 'client',
    slot: 1,
    container: {
      name: 'client',
      image: 'curlimages/curl:latest',
      imagePullPolicy: 'IfNotPresent',
      command: ['sleep', 'infinity'],
    },
  }),
];

const GW = 'gateway.networking.k8s.io/v1';
const toWaypoint = [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }];
const ROUTES = [
  {
    apiVersion: GW,
    kind: 'HTTPRoute',
    metadata: { name: 'echo', namespace: NS },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'echo', port: 80 }],
      rules: [
        {
          matches: [{ headers: [{ name: 'x-canary', value: 'yes' }] }],
          backendRefs: [{ name: 'echo-v2', port: 80 }],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/flaky' } }],
          backendRefs: [{ name: 'echo-v1', port: 80 }],
          retry: { attempts: 8, codes: [503], backoff: '10ms' },
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/slow' } }],
          backendRefs: [{ name: 'echo-v1', port: 80 }],
          timeouts: { request: '500ms' },
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
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'no-admin', namespace: NS },
    spec: {
      targetRefs: toWaypoint,
      action: 'DENY',
      rules: [{ to: [{ operation: { paths: ['/admin/*', '/api/{*}/internal'] } }] }],
    },
  },
  {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: 'sso', namespace: NS },
    spec: { targetRefs: toWaypoint, jwtRules: [{ issuer: sso.issuer, jwks: sso.jwks }] },
  },
  {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'secure-needs-jwt', namespace: NS },
    spec: {
      targetRefs: toWaypoint,
      action: 'DENY',
      rules: [
        {
          from: [{ source: { notRequestPrincipals: ['*'] } }],
          to: [{ operation: { paths: ['/secure/*'] } }],
        },
      ],
    },
  },
];

/** The workloads admit only the waypoint (L4, enforced by their ztunnel). */
const ONLY_VIA_WAYPOINT = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'only-via-waypoint', namespace: NS },
  spec: {
    selector: { matchLabels: { app: 'echo' } },
    action: 'ALLOW',
    rules: [{ from: [{ source: { principals: [WAYPOINT_ID] } }] }],
  },
};

let collector: Awaited<ReturnType<typeof startOtlpReceiver>> | undefined;
let removeRoutes: (() => void) | undefined;

/** Runs a shell command line in the mesh client; returns its stdout. */
function inClient(script: string): string {
  const c = client();
  return s.kubectl.run(['exec', '-n', c.namespace, c.pod, '--', 'sh', '-c', script]);
}

const curl = (path: string, extra: readonly string[] = []): CurlResult =>
  curlFrom(s.kubectl, client(), `${ECHO}${path}`, extra);

/** The `ServiceVersion=` of every Istio echo answer in curl's output. */
const versionsOf = (out: string) => [...out.matchAll(/^ServiceVersion=(v\d)$/gm)].map((m) => m[1]);
/** A request header the echo saw (`RequestHeader=Name:value`, Go-canonical name), or undefined. */
const seenHeader = (body: string, name: string) =>
  new RegExp(`^RequestHeader=${name}:(.*)$`, 'm').exec(body)?.[1];

/** Per-line status codes of a curl run over many URLs (`-w 'code=%{http_code}\n'`). */
const codesOf = (out: string) =>
  [...out.matchAll(/^code=(\d+)$/gm)].reduce<Record<string, number>>((n, m) => {
    n[m[1]!] = (n[m[1]!] ?? 0) + 1;
    return n;
  }, {});

before(async () => {
  if (needs.skip) return;
  s.kubectl.apply(APPS);
  if (s.cluster) {
    // The collector runs in this process on the host; the pods reach it through a Service whose
    // endpoint is the host's address on the cluster bridge (the install named that Service). On
    // kind the host also needs routes back to the pods.
    let hostIP: string;
    if (s.ref.provider === 'kind') {
      const routes = routePodsToHost(s.kubectl);
      removeRoutes = routes.remove;
      hostIP = routes.hostIP;
    } else {
      hostIP = layoutOf(s.cluster).hostIP;
    }
    collector = await startOtlpReceiver(hostIP);
    const port = Number(new URL(collector.endpoint).port);
    s.kubectl.apply([
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: OTLP_COLLECTOR.service, namespace: NS },
        spec: { ports: [{ name: 'grpc-otlp', port: OTLP_COLLECTOR.port, targetPort: port }] },
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${OTLP_COLLECTOR.service}-host`,
          namespace: NS,
          labels: { 'kubernetes.io/service-name': OTLP_COLLECTOR.service },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: [hostIP] }],
        ports: [{ name: 'grpc-otlp', port, protocol: 'TCP' }],
      },
    ]);
  }
  s.kubectl.run([
    'wait',
    '-n',
    NS,
    '--for=condition=Available',
    '--timeout=120s',
    'deployment',
    '--all',
  ]);
});

after(async () => {
  collector?.close();
  removeRoutes?.();
  if (needs.skip) return;
  s.kubectl.run(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true', '--timeout=60s']);
});

test(
  'trellis waypoint apply --enroll-namespace: the control plane deploys the waypoint; Programmed, Ready',
  needs,
  async () => {
    const t0 = Date.now();
    const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
    const r = await s.trellis('waypoint', 'apply', '-n', NS, '--enroll-namespace');
    console.log(`waypoint apply exited ${r.status} after ${since()}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr + r.stdout, /waypoint e2e-waypoint\/waypoint is Programmed/);
    const ns = s.kubectl.getJson('namespace', NS);
    assert.equal(ns.metadata.labels['istio.io/use-waypoint'], 'waypoint');
    s.kubectl.run([
      'wait',
      '-n',
      NS,
      '--for=condition=Available',
      '--timeout=60s',
      'deployment/waypoint',
    ]);
    console.log(`waypoint Deployment Available after ${since()}`);
    const container = s.kubectl.getJson('deployment', '-n', NS, 'waypoint').spec.template.spec
      .containers[0];
    assert.equal(container.image, `trellis/waypoint:${CLI_VERSION}`);
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
    );
    assert.equal(
      env['OTEL_EXPORTER_OTLP_ENDPOINT'],
      `http://${OTLP_COLLECTOR.service}.${NS}.svc.cluster.local:${OTLP_COLLECTOR.port}`,
      'the install-time collector reaches the waypoint',
    );
    s.kubectl.apply(ROUTES);
    // Served: ten canaries all on v2 (the route) and /admin/* denied (the policy). Until then
    // the outcomes (curl errors while the client's ztunnel already sends to a waypoint that is
    // not serving yet, versions, codes) are counted for the log.
    const outcomes = new Map<string, number>();
    for (let served = false; !served;) {
      const out = inClient(
        `curl -sS --max-time 5 -H 'x-canary: yes' -w '\\ncode=%{http_code}\\n' '${ECHO}/ready/[1-10]' '${ECHO}/admin/ready' 2>&1; true`,
      );
      const codes = codesOf(out);
      const onV2 = versionsOf(out).filter((v) => v === 'v2').length;
      const error = /curl: \(\d+\)[^\n]*/.exec(out)?.[0];
      const outcome = `${JSON.stringify(codes)}, ${onV2}/10 on v2${error ? `, ${error}` : ''}`;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      served = codes['200'] === 10 && codes['403'] === 1 && onV2 === 10;
      if (!served) {
        assert.ok(
          Date.now() - t0 < 90_000,
          `the route is not served after 90s: ${[...outcomes.keys()].join('; ')}`,
        );
        await sleep(500);
      }
    }
    console.log(
      `the route and policies are served after ${since()} (${[...outcomes].map(([o, n]) => `${n}x ${o}`).join('; ')})`,
    );
  },
);

test(
  '90/10 split over 1,000 requests within 3 %; a header match sends canaries to v2',
  needs,
  () => {
    const out = inClient(
      `curl -sS --parallel --parallel-max 20 --max-time 10 -w 'code=%{http_code}\\n' '${ECHO}/split/[1-1000]' | grep -E '^(code|ServiceVersion)='`,
    );
    const versions = versionsOf(out);
    const v1 = versions.filter((v) => v === 'v1').length;
    const v2 = versions.filter((v) => v === 'v2').length;
    assert.deepEqual(codesOf(out), { '200': 1000 });
    assert.equal(v1 + v2, 1000);
    console.log(`split: v1 ${v1} (${v1 / 10} %), v2 ${v2} (${v2 / 10} %)`);
    assert.ok(Math.abs(v2 - 100) <= 30, `v2 answered ${v2} of 1000 (want 100 +- 30)`);
    const canaries = inClient(
      `curl -sS -H 'x-canary: yes' '${ECHO}/canary/[1-10]' | grep '^ServiceVersion='`,
    );
    assert.deepEqual([...new Set(canaries.trim().split('\n'))], ['ServiceVersion=v2']);
    assert.equal(canaries.trim().split('\n').length, 10);
  },
);

test(
  'trellis proxy-config shows the routes, endpoints and certificate the waypoint holds; log changes its levels',
  needs,
  async () => {
    const pc = async (view: string, ...args: string[]) => {
      // deploy/NAME, and gateway/NAME for the certificate: a pod of the Gateway either way.
      const target = view === 'secret' ? 'gateway/waypoint' : 'deploy/waypoint';
      const r = await s.trellis('proxy-config', view, target, '-n', NS, ...args);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const cluster = (svc: string) => `outbound\\|80\\|\\|${svc}\\.${NS}\\.svc\\.cluster\\.local`;
    // The HTTPRoute's rules as the waypoint holds them: the canary match, the retried path, the split.
    const routes = await pc('routes');
    assert.match(routes, new RegExp(`/\\* x-canary=yes\\s+${cluster('echo-v2')}\\s`), routes);
    assert.match(routes, new RegExp(`/flaky/\\*\\s+${cluster('echo-v1')}\\s`), routes);
    assert.match(
      routes,
      new RegExp(`${cluster('echo-v1')} \\(90\\), ${cluster('echo-v2')} \\(10\\)`),
      routes,
    );
    // Every echo pod is a host, reached by HBONE with its identity.
    const hosts = (
      JSON.parse(await pc('endpoints', '-o', 'json')) as {
        name: string;
        hosts: { address: string; identity: string }[];
      }[]
    ).flatMap((c) => c.hosts.map((h) => `${c.name.split('|')[3]} ${h.identity}`));
    for (const v of ['echo-v1', 'echo-v2'])
      assert.ok(
        hosts.some((h) =>
          h.startsWith(`${v}.${NS}.svc.cluster.local spiffe://cluster.local/ns/${NS}/sa/`),
        ),
        hosts.join('\n'),
      );
    assert.match(
      await pc('secret'),
      new RegExp(
        `default\\s+workload certificate\\s+spiffe://cluster\\.local/ns/${NS}/sa/waypoint\\s`,
      ),
    );
    assert.equal(JSON.parse(await pc('log', '--level', 'engine:debug')).scopes.engine, 'debug');
    assert.equal(JSON.parse(await pc('log', '--level', 'engine:default')).scopes.engine, 'info');
  },
);

test("retries turn a flaky backend's 503s into 200s; a timeout gives 504", needs, () => {
  // The echo answers 503 a quarter of the time (?codes=503:1,200:3). Without a retry rule
  // (Service echo-v1 has no route) the 503s reach the client; with one they do not.
  const flaky = '?codes=503:1,200:3';
  const direct = codesOf(
    inClient(
      `curl -sS -o /dev/null -w 'code=%{http_code}\\n' 'http://echo-v1.${NS}.svc.cluster.local/flaky/[1-40]${flaky}'`,
    ),
  );
  assert.ok((direct['503'] ?? 0) > 0, `no retry rule: some 503s (${JSON.stringify(direct)})`);
  const retried = codesOf(
    inClient(`curl -sS -o /dev/null -w 'code=%{http_code}\\n' '${ECHO}/flaky/[1-40]${flaky}'`),
  );
  assert.deepEqual(retried, { '200': 40 }, 'retries (attempts 8, codes [503]) hide the 503s');

  const t0 = Date.now();
  const slow = curl('/slow/x?delay=3s');
  assert.deepEqual([slow.httpCode, slow.body], [504, 'upstream request timeout']);
  assert.ok(Date.now() - t0 < 2800, `answered after ${Date.now() - t0} ms (route timeout 500ms)`);
});

test('an L7 DENY by path answers 403 while other paths pass', needs, () => {
  const denied = curl('/admin/users');
  assert.deepEqual([denied.httpCode, denied.body], [403, 'RBAC: access denied']);
  assert.equal(curl('/public').httpCode, 200);
  assert.equal(curl('/admin').httpCode, 200, '/admin/* does not match /admin');
  // Istio's path template: {*} is exactly one segment.
  assert.equal(curl('/api/v2/internal').httpCode, 403);
  assert.equal(curl('/api/v2/beta/internal').httpCode, 200);
});

test('a JWT-required path: valid token 200, expired 401, missing 403', needs, () => {
  const bearer = (t: string) => ['-H', `authorization: Bearer ${t}`];
  const ok = curl('/secure/data', bearer(sso.token({ sub: 'alice' })));
  assert.equal(ok.httpCode, 200, ok.body);
  assert.equal(seenHeader(ok.body, 'Authorization'), undefined, 'the token is not forwarded');
  const expired = curl('/secure/data', bearer(sso.token({ sub: 'alice' }, { expiresIn: -300 })));
  assert.deepEqual([expired.httpCode, expired.body], [401, 'Jwt is expired']);
  const missing = curl('/secure/data');
  assert.deepEqual([missing.httpCode, missing.body], [403, 'RBAC: access denied']);
  assert.equal(curl('/public').httpCode, 200, 'other paths need no token');
});

test(
  'waypoint metrics by response code (istio_requests_total, reporter="waypoint", :15020)',
  needs,
  () => {
    const wp = s.kubectl.getJson(
      'pods',
      '-n',
      NS,
      '-l',
      'gateway.networking.k8s.io/gateway-name=waypoint',
    ).items[0];
    // From the unenrolled client: the waypoint's metrics port is plain HTTP.
    const plain = { namespace: 'e2e-plain', pod: podOf(s.kubectl, 'e2e-plain', 'client') };
    const r = curlFrom(s.kubectl, plain, `http://${wp.status.podIP}:15020/metrics`);
    assert.equal(r.httpCode, 200, r.body.slice(0, 300));
    const m = r.body;
    const requests = (labels: Record<string, string>) =>
      metricSum(m, 'istio_requests_total', { reporter: 'waypoint', ...labels });
    const to = (svc: string, code: string) =>
      requests({ destination_service: `${svc}.${NS}.svc.cluster.local`, response_code: code });
    assert.ok(
      to('echo-v1', '200') >= 850 && to('echo-v2', '200') >= 70,
      `200s: echo-v1 ${to('echo-v1', '200')}, echo-v2 ${to('echo-v2', '200')}`,
    );
    assert.ok(to('echo-v1', '503') >= 1, 'the 503s without a retry rule are counted');
    assert.ok(requests({ response_code: '403' }) >= 2, 'the RBAC denials are counted');
    assert.ok(requests({ response_code: '401' }) >= 1, 'the expired token is counted');
    assert.ok(requests({ response_code: '504', response_flags: 'UT' }) >= 1, 'the timeout');
    assert.ok(
      requests({
        source_principal: `spiffe://cluster.local/ns/${NS}/sa/client`,
        connection_security_policy: 'mutual_tls',
      }) >= 1000,
      'requests come from the client over mutual TLS',
    );
    assert.ok(
      metricSum(m, 'envoy_cluster_upstream_rq_retry', {
        cluster_name: `outbound|80||echo-v1.${NS}.svc.cluster.local`,
      }) >= 1,
      'the retries are counted',
    );
  },
);

test(
  "traces: the waypoint's span reaches the OTLP collector, child of the client's traceparent",
  {
    ...needs,
    skip:
      needs.skip ??
      (!s.cluster &&
        'the collector runs on the host of a cluster the runner created (not with --kubeconfig)'),
  },
  async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    const r = curl('/traced', ['-H', `traceparent: 00-${traceId}-${parent}-01`]);
    assert.equal(r.httpCode, 200, r.body);
    let span: ReceivedSpan | undefined;
    for (let i = 0; i < 60 && !span; i++) {
      span = collector!.spans.find((x) => x.traceId === traceId);
      if (!span) await sleep(250);
    }
    assert.ok(span, `no span of trace ${traceId} in ${collector!.spans.length} received`);
    assert.equal(span.parentSpanId, parent);
    assert.equal(span.service, `waypoint.${NS}`);
    assert.equal(span.attributes['http.status_code'], '200');
    // The request the echo got carries the waypoint's span as its parent.
    assert.equal(seenHeader(r.body, 'Traceparent'), `00-${traceId}-${span.spanId}-01`, r.body);
  },
);

test(
  'a client that skips the waypoint (direct to a pod) is refused by the destination ztunnel',
  needs,
  async () => {
    const pod = s.kubectl.getJson('pods', '-n', NS, '-l', 'app=echo,version=v1').items[0];
    const direct = `http://${pod.status.podIP}:8080/direct`;
    // A waypoint for services leaves pod-addressed traffic direct (Istio's semantics): it passes
    // until the workloads admit only the waypoint.
    assert.equal(curlFrom(s.kubectl, client(), direct).httpCode, 200, 'direct, before the policy');
    s.kubectl.apply([ONLY_VIA_WAYPOINT]);
    try {
      // Through the Service the waypoint carries it: the workload sees the waypoint's identity.
      assert.equal((await curlUntil(() => curl('/via-waypoint'), true)).httpCode, 200);
      const r = await curlUntil(() => curlFrom(s.kubectl, client(), direct), false);
      assert.notEqual(r.httpCode, 200, `direct to ${pod.metadata.name}: curl exit ${r.exit}`);
      const denied = accessLog(s.kubectl, pod.spec.nodeName).filter(
        (x) =>
          x.direction === 'inbound' &&
          x.decision === 'deny' &&
          x.srcIdentity === `spiffe://cluster.local/ns/${NS}/sa/client`,
      );
      assert.ok(denied.length > 0, `the ztunnel on ${pod.spec.nodeName} logged no denial`);
    } finally {
      s.kubectl.run(['delete', '-n', NS, 'authorizationpolicy', ONLY_VIA_WAYPOINT.metadata.name]);
    }
  },
);

test(
  'a rolling update of the waypoint loses no request: peers still sending to the old pod are served',
  needs,
  async () => {
    const n = await rolloutLosesNoRequest({
      kubeconfig: s.kubeconfig,
      kubectl: s.kubectl,
      resource: 'deployment/waypoint',
      namespace: NS,
      selector: 'gateway.networking.k8s.io/gateway-name=waypoint',
      from: client(),
      urls: [`${ECHO}/public`],
      minRequests: 50,
    });
    console.log(`# ${n} requests during the waypoint rolling update, all answered 200`);
  },
);
