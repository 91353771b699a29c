import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMetricName } from './metric-names.js';

test("Istio's names pass", () => {
  checkMetricName('istio_tcp_connections_opened_total', 'counter');
  checkMetricName('istio_requests_total', 'observable-counter');
  checkMetricName('istio_request_duration_milliseconds', 'histogram');
  checkMetricName('istio_build', 'gauge');
});

test('counters must end in _total', () => {
  assert.throws(() => checkMetricName('istio_tcp_sent_bytes', 'counter'), {
    message:
      'counter name "istio_tcp_sent_bytes" would be exported as "istio_tcp_sent_bytes_total": end it in _total',
  });
  assert.throws(() => checkMetricName('x', 'observable-counter'), /end it in _total/);
});

test('characters the exporter would replace are rejected', () => {
  for (const bad of ['http.server.duration', 'a-b', '9lives', '', 'a b']) {
    assert.throws(() => checkMetricName(bad, 'gauge'), /use only letters, digits and '_'/, bad);
  }
  assert.throws(() => checkMetricName('a__b', 'gauge'), /"__" would be exported as "_"/);
});
