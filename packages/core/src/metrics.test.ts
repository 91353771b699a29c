import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from './metrics.js';

async function scrape(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

test("Istio's metric names come out exactly as given, on both paths", async (t) => {
  const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
  t.after(() => metrics.stop());
  const meter = metrics.meter('ztunnel.proxy');
  const opened = meter.createCounter('istio_tcp_connections_opened_total', {
    description: 'Connections opened.',
  });
  const duration = meter.createHistogram('istio_request_duration_milliseconds', {
    description: 'Request duration.',
    unit: 'ms',
    advice: { explicitBucketBoundaries: [1, 10, 100] },
  });
  opened.add(2, { reporter: 'destination', source_workload: 'sleep' });
  opened.add(1, { reporter: 'destination', source_workload: 'sleep' });
  duration.record(5, { response_code: '200' });

  for (const path of ['/metrics', '/stats/prometheus']) {
    const { status, body } = await scrape(metrics.port, path);
    assert.equal(status, 200, path);
    const lines = body.split('\n');
    assert.ok(lines.includes('# TYPE istio_tcp_connections_opened_total counter'), body);
    assert.ok(
      lines.includes(
        'istio_tcp_connections_opened_total{reporter="destination",source_workload="sleep"} 3',
      ),
      body,
    );
    assert.ok(lines.includes('# TYPE istio_request_duration_milliseconds histogram'), body);
    assert.ok(
      lines.includes('istio_request_duration_milliseconds_count{response_code="200"} 1'),
      body,
    );
    assert.ok(
      lines.includes('istio_request_duration_milliseconds_sum{response_code="200"} 5'),
      body,
    );
    assert.ok(
      lines.includes('istio_request_duration_milliseconds_bucket{response_code="200",le="1"} 0'),
      body,
    );
    assert.ok(
      lines.includes('istio_request_duration_milliseconds_bucket{response_code="200",le="10"} 1'),
      body,
    );
    assert.ok(
      lines.includes('istio_request_duration_milliseconds_bucket{response_code="200",le="+Inf"} 1'),
      body,
    );
    assert.doesNotMatch(body, /target_info|otel_scope/);
  }
});

test('other paths get 404', async (t) => {
  const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
  t.after(() => metrics.stop());
  const { status, body } = await scrape(metrics.port, '/stats');
  assert.equal(status, 404);
  assert.match(body, /\/metrics and \/stats\/prometheus/);
});

test("Istio's counters without _total are scraped as counters under their exact names", async (t) => {
  const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
  t.after(() => metrics.stop());
  const meter = metrics.meter('ca');
  const csrs = meter.createCounter('citadel_server_csr_count', { description: 'CSRs received' });
  const pushes = meter.createCounter('pilot_xds_pushes', { description: 'xDS responses sent' });
  csrs.add(1);
  csrs.add(1);
  pushes.add(3, { type: 'cds' });
  meter.createUpDownCounter('istio_open_connections').add(1);

  const res = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const lines = (await res.text()).split('\n');
  for (const want of [
    '# HELP citadel_server_csr_count CSRs received',
    '# TYPE citadel_server_csr_count counter',
    'citadel_server_csr_count 2',
    '# TYPE pilot_xds_pushes counter',
    'pilot_xds_pushes{type="cds"} 3',
    '# TYPE istio_open_connections gauge',
    'istio_open_connections 1',
  ]) {
    assert.ok(lines.includes(want), `${want}\n${lines.join('\n')}`);
  }
  assert.ok(!lines.some((l) => l.includes('_count_total') || l.includes('pushes_total')));
});

test('label values and help texts are escaped; NaN and infinities as Prometheus writes them', async (t) => {
  const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
  t.after(() => metrics.stop());
  const meter = metrics.meter('test');
  meter
    .createCounter('odd_total', { description: 'back\\slash\nnewline' })
    .add(1, { 'k8s.pod': 'a"b\\c\nd' });
  meter.createObservableGauge('inf').addCallback((r) => r.observe(Infinity));
  meter.createObservableGauge('nan').addCallback((r) => r.observe(NaN));
  const { body } = await scrape(metrics.port, '/metrics');
  const lines = body.split('\n');
  assert.ok(lines.includes('# HELP odd_total back\\\\slash\\nnewline'), body);
  assert.ok(lines.includes('odd_total{k8s_pod="a\\"b\\\\c\\nd"} 1'), body);
  assert.ok(lines.includes('inf +Inf'), body);
  assert.ok(lines.includes('nan NaN'), body);
});

test('a name Prometheus cannot carry is rejected when the instrument is created', async (t) => {
  const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
  t.after(() => metrics.stop());
  const meter = metrics.meter('test');
  assert.throws(
    () => meter.createHistogram('request.duration'),
    /use only letters, digits and '_'/,
  );
  assert.throws(() => meter.createCounter('__reserved'), /reserved/);
});

test('stop closes the endpoint', async () => {
  const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
  await scrape(metrics.port, '/metrics');
  await metrics.stop();
  await assert.rejects(scrape(metrics.port, '/metrics'));
});

test('a port in use is reported', async (t) => {
  const first = await createMetrics({ host: '127.0.0.1', port: 0 });
  t.after(() => first.stop());
  await assert.rejects(createMetrics({ host: '127.0.0.1', port: first.port }), {
    code: 'EADDRINUSE',
  });
});
