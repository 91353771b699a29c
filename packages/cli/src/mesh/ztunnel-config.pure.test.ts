import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionRows, parseConfigDump, parsePrometheus } from './ztunnel-config.pure.js';

const METRICS = `# HELP istio_tcp_connections_opened_total Connections opened
# TYPE istio_tcp_connections_opened_total counter
istio_tcp_connections_opened_total{reporter="destination",source_workload="client",source_workload_namespace="default",destination_service="echo.default.svc.cluster.local",destination_workload="echo-v1",destination_workload_namespace="default"} 5
istio_tcp_connections_closed_total{reporter="destination",source_workload="client",source_workload_namespace="default",destination_service="echo.default.svc.cluster.local",destination_workload="echo-v1",destination_workload_namespace="default"} 3
istio_tcp_sent_bytes_total{reporter="destination",source_workload="client",source_workload_namespace="default",destination_service="echo.default.svc.cluster.local",destination_workload="echo-v1",destination_workload_namespace="default"} 1200
istio_tcp_connections_opened_total{reporter="source",source_workload="client",source_workload_namespace="default",destination_service="unknown",destination_workload="db",destination_workload_namespace="data",note="a \\"quoted\\" value"} 1
process_cpu_seconds_total 12.5
`;

test('the Prometheus text format, with escaped label values', () => {
  const samples = parsePrometheus(METRICS);
  assert.equal(samples.length, 5);
  assert.equal(samples[3]!.labels['note'], 'a "quoted" value');
  assert.deepEqual(samples[4], { name: 'process_cpu_seconds_total', labels: {}, value: 12.5 });
});

test('connections: opened minus closed per reporter, source and destination', () => {
  assert.deepEqual(connectionRows(parsePrometheus(METRICS)), [
    {
      reporter: 'source',
      source: 'default/client',
      destination: 'data/db',
      opened: 1,
      closed: 0,
      open: 1,
      sentBytes: 0,
      receivedBytes: 0,
    },
    {
      reporter: 'destination',
      source: 'default/client',
      destination: 'echo.default.svc.cluster.local',
      opened: 5,
      closed: 3,
      open: 2,
      sentBytes: 1200,
      receivedBytes: 0,
    },
  ]);
});

test('a document that is not a ztunnel config dump is refused with its source', () => {
  assert.throws(
    () => parseConfigDump('<html>', 'ztunnel x'),
    /ztunnel x: \/config_dump is not JSON/,
  );
  assert.throws(
    () => parseConfigDump('{"workloads":[]}', 'ztunnel x'),
    /has no "services" list; is this a ztunnel admin port\?/,
  );
});
