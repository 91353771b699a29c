import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration } from './go-duration.pure.js';

test('parses the Go duration forms the echo flags and query options take', () => {
  assert.equal(parseGoDuration('5s'), 5e9);
  assert.equal(parseGoDuration('100ms'), 100e6);
  assert.equal(parseGoDuration('1m30s'), 90e9);
  assert.equal(parseGoDuration('1.5h'), 5400e9);
  assert.equal(parseGoDuration('2µs'), 2000);
  assert.equal(parseGoDuration('3us'), 3000);
  assert.equal(parseGoDuration('.5s'), 500e6);
  assert.equal(parseGoDuration('-1s'), -1e9);
  assert.equal(parseGoDuration('0'), 0);
});

test('refuses what Go refuses, naming the input', () => {
  for (const bad of ['', '5', 's', '1x', '1s5', '.s', '--1s', '1 s'])
    assert.throws(() => parseGoDuration(bad), new RegExp(`invalid duration "${bad}"`), bad);
});

test("formats as Go's Duration.String does", () => {
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(999), '999ns');
  assert.equal(formatGoDuration(1500), '1.5µs');
  assert.equal(formatGoDuration(12_345_678), '12.345678ms');
  assert.equal(formatGoDuration(2e6), '2ms');
  assert.equal(formatGoDuration(1.5e9), '1.5s');
  assert.equal(formatGoDuration(90e9), '1m30s');
  assert.equal(formatGoDuration(7200e9), '2h0m0s');
  assert.equal(formatGoDuration(3723.000000001e9), '1h2m3.000000001s');
  assert.equal(formatGoDuration(-1500), '-1.5µs');
});
