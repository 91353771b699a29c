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

test('a name the exporter would rewrite is rejected when the instrument is created', async (t) => {
  const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
  t.after(() => metrics.stop());
  const meter = metrics.meter('test');
  assert.throws(
    () => meter.createCounter('istio_requests'),
    /would be exported as "istio_requests_total"/,
  );
  assert.throws(
    () => meter.createHistogram('request.duration'),
    /use only letters, digits and '_'/,
  );
  meter.createUpDownCounter('istio_open_connections').add(1);
  const { body } = await scrape(metrics.port, '/metrics');
  assert.ok(body.split('\n').includes('istio_open_connections 1'), body);
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
