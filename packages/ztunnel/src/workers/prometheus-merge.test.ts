// Summing the Prometheus text of several processes: hand-written expositions for the parsing
// rules, and the real OpenTelemetry exporter output of two registries for the sums a scrape shows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTrafficMetrics, trafficLabels } from '../metrics.js';
import { createMetricsRegistry } from '@trellis/core';
import {
  mergePrometheusTexts,
  monotonicFamilies,
  parsePrometheusText,
  formatPrometheusText,
} from './prometheus-merge.js';

test('the same series from two texts is summed, whatever the label order; others are kept', () => {
  const a = [
    '# HELP c_total things',
    '# TYPE c_total counter',
    'c_total{x="1",y="a"} 2',
    'c_total{x="2",y="a"} 5',
    '',
  ].join('\n');
  const b = [
    '# HELP c_total things (other help is ignored)',
    '# TYPE c_total counter',
    'c_total{y="a",x="1"} 3',
    '# TYPE g gauge',
    'g 4',
  ].join('\n');
  assert.equal(
    mergePrometheusTexts([a, b]),
    [
      '# HELP c_total things',
      '# TYPE c_total counter',
      'c_total{x="1",y="a"} 5',
      'c_total{x="2",y="a"} 5',
      '',
      '# TYPE g gauge',
      'g 4',
      '',
      '',
    ].join('\n'),
  );
});

test('histogram buckets, sums and counts add up; label values keep escapes, commas and braces', () => {
  const h = (n: number) =>
    [
      '# TYPE d histogram',
      `d_bucket{p="a,\\"b\\"}",le="1"} ${n}`,
      `d_bucket{p="a,\\"b\\"}",le="+Inf"} ${n * 2}`,
      `d_sum{p="a,\\"b\\"}"} ${n * 0.5}`,
      `d_count{p="a,\\"b\\"}"} ${n * 2}`,
    ].join('\n');
  const [d] = parsePrometheusText(mergePrometheusTexts([h(1), h(2)]));
  assert.equal(d?.name, 'd');
  assert.deepEqual(
    [...d!.samples],
    [
      ['d_bucket{le="1",p="a,\\"b\\"}"}', 3],
      ['d_bucket{le="+Inf",p="a,\\"b\\"}"}', 6],
      ['d_sum{p="a,\\"b\\"}"}', 1.5],
      ['d_count{p="a,\\"b\\"}"}', 6],
    ],
  );
});

test('a line that is neither a sample nor a comment is refused with its line number', () => {
  assert.throws(() => parsePrometheusText('# TYPE c counter\nc{x="1" 1\n'), /metrics line 2/);
  assert.throws(() => parsePrometheusText('c one\n'), /metrics line 1: "one" is not a number/);
});

test('only counters and histograms survive monotonicFamilies (what a dead worker leaves)', () => {
  const text =
    '# TYPE c_total counter\nc_total 1\n# TYPE g gauge\ng 7\n# TYPE h histogram\nh_count 1\n';
  assert.deepEqual(
    monotonicFamilies(parsePrometheusText(text)).map((f) => f.name),
    ['c_total', 'h'],
  );
  assert.equal(formatPrometheusText([]), '');
});

test("two real registries' Istio TCP counters sum to what one process would have counted", async () => {
  const regs = [createMetricsRegistry(), createMetricsRegistry()];
  const labels = trafficLabels({ reporter: 'destination', securityPolicy: 'mutual_tls' });
  const denied = trafficLabels({
    reporter: 'destination',
    securityPolicy: 'mutual_tls',
    responseFlags: 'DENY',
  });
  const [m1, m2] = regs.map((r) => createTrafficMetrics(r.meter('proxy')));
  m1!.connectionsOpened.add(2, labels);
  m1!.receivedBytes.add(1000, labels);
  m2!.connectionsOpened.add(3, labels);
  m2!.receivedBytes.add(24, labels);
  m2!.connectionsFailed.add(1, denied);
  const merged = parsePrometheusText(
    mergePrometheusTexts(await Promise.all(regs.map((r) => r.text()))),
  );
  const total = (name: string) =>
    [...(merged.find((f) => f.name === name)?.samples.values() ?? [])].reduce((a, b) => a + b, 0);
  assert.equal(total('istio_tcp_connections_opened_total'), 5);
  assert.equal(total('istio_tcp_received_bytes_total'), 1024);
  assert.equal(total('istio_tcp_connections_failed_total'), 1);
  assert.equal(
    merged.find((f) => f.name === 'istio_tcp_connections_opened_total')?.type,
    'counter',
  );
  await Promise.all(regs.map((r) => r.close()));
});
