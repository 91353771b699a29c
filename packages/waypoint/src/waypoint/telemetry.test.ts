// Telemetry with Istio's names: istio_requests_total and the request histograms with
// reporter="waypoint" and source/destination labels from the peer identity, baggage and endpoint
// metadata; a JSON access-log line per request; OpenTelemetry spans exported over OTLP to a real
// receiver, with W3C traceparent propagated to the backend as this span's child.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { httpBackend, metricSum, metricsText, request, testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  listener,
  prefix,
  routeConfig,
} from '../test-support/envoy-builders.js';
import { spiffe, startFixture } from '../test-support/fixture.js';
import { startOtlpReceiver } from '../test-support/otlp-receiver.js';

const HBONE = testPort(81);
const C = 'outbound|80||reviews.bookinfo.svc.cluster.local';

test('metrics, access log and traces of requests through the waypoint', async (t) => {
  const otlp = await startOtlpReceiver();
  t.after(() => otlp.close());
  const bport = testPort(82);
  const accessLog: string[] = [];
  const f = await startFixture({
    hbonePort: HBONE,
    accessLog,
    extraArgs: ['--otlp-endpoint', otlp.endpoint, '--trace-sampling', '100'],
    envoy: {
      listeners: [listener([{ vip: '10.96.5.1', port: 80, routes: 'r' }])],
      routes: [
        routeConfig('r', [
          {
            name: 'r',
            domains: ['*'],
            routes: [forward('teapot', prefix('/teapot'), C), forward('all', prefix('/'), C)],
          },
        ]),
      ],
      clusters: [cluster(C)],
      endpoints: [
        endpoints(C, [
          {
            ip: '127.0.0.81',
            port: bport,
            identity: spiffe('bookinfo', 'reviews'),
            workload: 'reviews-v2;bookinfo;reviews;v2;Kubernetes',
          },
        ]),
      ],
    },
  });
  t.after(() => f.close());
  const backend = await httpBackend(t, f.mesh, {
    ip: '127.0.0.81',
    port: bport,
    hbonePort: HBONE,
    name: 'reviews',
    namespace: 'bookinfo',
    handler: (req, _b, res) => {
      res.statusCode = req.url!.startsWith('/teapot') ? 418 : 200;
      res.end('ok');
    },
  });
  const port = await f.sourcePort('10.96.5.1', 80, spiffe('bookinfo', 'productpage'));
  for (let i = 0; i < 3; i++)
    assert.equal((await request(port, { path: '/reviews/1' })).status, 200);
  const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  assert.equal(
    (
      await request(port, {
        path: '/teapot',
        method: 'POST',
        body: 'tea',
        headers: { traceparent: parent },
      })
    ).status,
    418,
  );

  const m = await metricsText(f);
  const base = {
    reporter: 'waypoint',
    source_principal: 'spiffe://cluster.local/ns/bookinfo/sa/productpage',
    source_workload_namespace: 'bookinfo',
    destination_service: 'reviews.bookinfo.svc.cluster.local',
    destination_service_name: 'reviews',
    destination_service_namespace: 'bookinfo',
    destination_workload: 'reviews-v2',
    destination_canonical_revision: 'v2',
    destination_principal: 'spiffe://cluster.local/ns/bookinfo/sa/reviews',
    request_protocol: 'http',
    connection_security_policy: 'mutual_tls',
  };
  assert.equal(metricSum(m, 'istio_requests_total', { ...base, response_code: '200' }), 3);
  assert.equal(metricSum(m, 'istio_requests_total', { ...base, response_code: '418' }), 1);
  assert.equal(
    metricSum(m, 'istio_request_duration_milliseconds_count', { ...base, response_code: '200' }),
    3,
  );
  assert.equal(
    metricSum(m, 'istio_request_bytes_sum', { response_code: '418' }),
    3,
    'the 418 request carried 3 body bytes',
  );
  assert.equal(metricSum(m, 'istio_response_bytes_sum', { response_code: '200' }), 6);

  await eventually('4 access log entries', () => accessLog.length >= 4, 5_000);
  const entries = accessLog.map((l) => JSON.parse(l) as Record<string, unknown>);
  const tea = entries.find((e) => e['path'] === '/teapot')!;
  assert.equal(tea['response_code'], 418);
  assert.equal(tea['method'], 'POST');
  assert.equal(tea['upstream_cluster'], C);
  assert.equal(tea['downstream_peer_uri_san'], 'spiffe://cluster.local/ns/bookinfo/sa/productpage');
  assert.equal(tea['route_name'], 'teapot');
  assert.match(String(tea['request_id']), /^[0-9a-f-]{36}$/);

  // The backend saw a traceparent of the waypoint's span, in the caller's trace.
  const seenTp = String(backend.seen.find((s) => s.url === '/teapot')!.headers['traceparent']);
  assert.match(seenTp, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  const spanId = seenTp.split('-')[2]!;
  const span = await eventually(
    `span ${spanId} exported`,
    () => otlp.spans.find((s) => s.spanId === spanId),
    { timeoutMs: 10_000, detail: () => `got ${otlp.spans.length} spans` },
  );
  assert.equal(span.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(span.parentSpanId, 'b7ad6b7169203331');
  assert.equal(span.kind, 2, 'SERVER');
  assert.equal(span.attributes['http.status_code'], '418');
  assert.equal(span.attributes['http.method'], 'POST');
  assert.equal(span.attributes['upstream_cluster'], C);
  assert.equal(span.service, 'waypoint.default');
  // Requests without a traceparent start their own traces (sampling 100 %).
  assert.ok(otlp.spans.filter((s) => s.traceId !== '0af7651916cd43dd8448eb211c80319c').length >= 3);
});
