import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '@trellis/core';
import { createTrafficMetrics, trafficLabels } from './metrics.js';
import { service, workload } from './test-support/fixtures.js';

test('trafficLabels fills every Istio label, "unknown" where nothing is known', () => {
  const labels = trafficLabels({ reporter: 'destination', securityPolicy: 'unknown' });
  assert.equal(Object.keys(labels).length, 23);
  assert.equal(labels.reporter, 'destination');
  assert.equal(labels.source_principal, 'unknown');
  assert.equal(labels.destination_service, 'unknown');
  assert.equal(labels.request_protocol, 'tcp');
  assert.equal(labels.response_flags, '-');
});

test('the istio_tcp_* counters are exported with Istio names and labels', async (t) => {
  const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
  t.after(() => metrics.stop());
  const traffic = createTrafficMetrics(metrics.meter('proxy'));
  const labels = trafficLabels({
    reporter: 'destination',
    source: workload({
      uid: 'src',
      namespace: 'client-ns',
      workloadName: 'client',
      canonicalName: 'client',
      canonicalRevision: 'v1',
    }),
    sourceIdentity: {
      trustDomain: 'cluster.local',
      namespace: 'client-ns',
      serviceAccount: 'client',
    },
    destination: workload({
      uid: 'dst',
      namespace: 'default',
      serviceAccount: 'echo',
      workloadName: 'echo-v1',
      canonicalName: 'echo',
    }),
    destinationService: service({ hostname: 'echo.default.svc.cluster.local', name: 'echo' }),
    securityPolicy: 'mutual_tls',
  });
  traffic.connectionsOpened.add(1, labels);
  traffic.receivedBytes.add(100, labels);
  traffic.sentBytes.add(250, labels);
  traffic.connectionsClosed.add(1, labels);
  traffic.connectionsFailed.add(1, { ...labels, response_flags: 'CONNECT' });

  const text = await (await fetch(`http://127.0.0.1:${metrics.port}/stats/prometheus`)).text();
  const line = (name: string) => text.split('\n').find((l) => l.startsWith(`${name}{`));
  const opened = line('istio_tcp_connections_opened_total');
  assert.ok(opened, text);
  for (const expected of [
    'reporter="destination"',
    'source_workload="client"',
    'source_workload_namespace="client-ns"',
    'source_principal="spiffe://cluster.local/ns/client-ns/sa/client"',
    'destination_workload="echo-v1"',
    'destination_workload_namespace="default"',
    'destination_principal="spiffe://cluster.local/ns/default/sa/echo"',
    'destination_service="echo.default.svc.cluster.local"',
    'destination_service_name="echo"',
    'destination_canonical_revision="unknown"',
    'connection_security_policy="mutual_tls"',
    'request_protocol="tcp"',
    'response_flags="-"',
  ]) {
    assert.ok(opened.includes(expected), `${expected} in ${opened}`);
  }
  assert.match(opened, /} 1$/);
  assert.match(line('istio_tcp_received_bytes_total')!, /} 100$/);
  assert.match(line('istio_tcp_sent_bytes_total')!, /} 250$/);
  assert.match(line('istio_tcp_connections_closed_total')!, /} 1$/);
  assert.match(line('istio_tcp_connections_failed_total')!, /response_flags="CONNECT".*} 1$/);
});
