import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationFromMs, parseGatewayDuration } from './duration.js';

test('Gateway API durations parse to milliseconds', () => {
  assert.equal(parseGatewayDuration('10s'), 10_000);
  assert.equal(parseGatewayDuration('500ms'), 500);
  assert.equal(parseGatewayDuration('1h30m'), 5_400_000);
  assert.equal(parseGatewayDuration('1m1s1ms'), 61_001);
  assert.equal(parseGatewayDuration('0s'), 0);
});

test('malformed durations are rejected', () => {
  for (const bad of ['', '10', 's', '1.5s', '10 s', '1d', '1h1h1h1h1h', '123456s'])
    assert.equal(parseGatewayDuration(bad), undefined, bad);
});

test('milliseconds become seconds and nanos', () => {
  const d = durationFromMs(1500);
  assert.equal(d.seconds, 1n);
  assert.equal(d.nanos, 500_000_000);
});
