import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMetricName } from './metric-names.js';

test("Istio's names pass", () => {
  checkMetricName('istio_tcp_connections_opened_total', 'counter');
  checkMetricName('istio_requests_total', 'observable-counter');
  checkMetricName('istio_request_duration_milliseconds', 'histogram');
  checkMetricName('istio_build', 'gauge');
});

test("Istio's counters without _total pass (they are exported under their exact names)", () => {
  checkMetricName('citadel_server_csr_count', 'counter');
  checkMetricName('pilot_total_xds_rejects', 'counter');
});

test('characters Prometheus cannot carry are rejected', () => {
  for (const bad of ['http.server.duration', 'a-b', '9lives', '', 'a b']) {
    assert.throws(() => checkMetricName(bad, 'gauge'), /use only letters, digits and '_'/, bad);
  }
  assert.throws(() => checkMetricName('__a', 'gauge'), /reserved/);
});
