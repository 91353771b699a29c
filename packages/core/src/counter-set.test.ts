import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCounterSet } from './counter-set.js';
import { createMetricsRegistry } from './metrics-registry.js';

test('a counter set keeps one series per label set, whatever object or key order carries it', async (t) => {
  const registry = createMetricsRegistry();
  t.after(() => registry.close());
  const c = createCounterSet(registry.meter('test'), [
    ['opened', 'test_opened_total', 'opened'],
    ['bytes', 'test_bytes_total', 'bytes'],
    ['failed', 'test_failed_total', 'failed'],
  ]);
  const a = { peer: 'a', code: '200' };
  c.opened.add(1, a);
  c.opened.add(1, a);
  c.bytes.add(100, a);
  // the same labels in another object, keys in another order: the same series
  c.opened.add(1, { code: '200', peer: 'a' });
  c.bytes.add(20, { code: '200', peer: 'a' });
  // changing an object after its first use does not move its series: copies are kept
  const b = { peer: 'b', code: '503' };
  c.opened.add(5, b);
  b.peer = 'changed';
  const text = await registry.text();
  const samples = text.split('\n').filter((l) => l.startsWith('test_'));
  assert.deepEqual(samples.sort(), [
    'test_bytes_total{peer="a",code="200"} 120',
    'test_opened_total{peer="a",code="200"} 3',
    'test_opened_total{peer="b",code="503"} 5',
  ]);
  assert.match(text, /# TYPE test_opened_total counter/);
  // a counter never added to exports no series
  assert.doesNotMatch(text, /test_failed_total\{/);
  // values are cumulative across scrapes
  c.opened.add(1, a);
  assert.match(await registry.text(), /test_opened_total\{peer="a",code="200"\} 4/);
});
