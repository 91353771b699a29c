import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bool,
  custom,
  duration,
  formatDuration,
  hostPort,
  int,
  list,
  oneOf,
  string,
} from './setting-parsers.js';

test('string returns the text unchanged', () => {
  assert.equal(string().parse(' /etc/certs '), ' /etc/certs ');
});

test('int parses integers within bounds and rejects the rest', () => {
  const port = int({ min: 1, max: 65535 });
  assert.equal(port.parse('15012'), 15012);
  assert.equal(port.parse(' 1 '), 1);
  assert.equal(port.expected, 'an integer from 1 to 65535');
  assert.throws(() => port.parse('0'), /below the minimum 1/);
  assert.throws(() => port.parse('65536'), /above the maximum 65535/);
  assert.throws(() => port.parse('15.5'), /not an integer/);
  assert.throws(() => port.parse('12abc'), /not an integer/);
  assert.throws(() => port.parse(''), /not an integer/);
  assert.equal(int().parse('-3'), -3);
  assert.throws(() => int().parse('99999999999999999999'), /out of range/);
  assert.equal(int({ min: 0 }).expected, 'an integer >= 0');
});

test('bool accepts the usual spellings and rejects others', () => {
  const b = bool();
  for (const t of ['true', 'TRUE', '1', 'yes', 'on']) assert.equal(b.parse(t), true, t);
  for (const f of ['false', 'False', '0', 'no', 'off']) assert.equal(b.parse(f), false, f);
  assert.throws(() => b.parse('maybe'), /not a boolean/);
});

test('duration converts units to milliseconds', () => {
  const d = duration();
  assert.equal(d.parse('250ms'), 250);
  assert.equal(d.parse('5s'), 5000);
  assert.equal(d.parse('1m'), 60_000);
  assert.equal(d.parse('24h'), 86_400_000);
  assert.equal(d.parse('1h30m'), 5_400_000);
  assert.equal(d.parse('1m5s'), 65_000);
  assert.equal(d.parse('0'), 0);
  for (const bad of ['5', '5 s', '1.5s', 's', '5d', '-1s', '']) {
    assert.throws(() => d.parse(bad), /not a duration/, bad);
  }
});

test('formatDuration writes the largest exact units', () => {
  assert.equal(formatDuration(0), '0');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(86_400_000), '24h');
  assert.equal(formatDuration(1001), '1s1ms');
  const d = duration();
  for (const ms of [1, 999, 61_000, 3_723_004]) assert.equal(d.parse(formatDuration(ms)), ms);
});

test('oneOf accepts only the listed values', () => {
  const mode = oneOf(['strict', 'permissive']);
  const value: 'strict' | 'permissive' = mode.parse('strict');
  assert.equal(value, 'strict');
  assert.equal(mode.expected, 'one of strict, permissive');
  assert.throws(() => mode.parse('STRICT'), /not an accepted value/);
  assert.throws(() => oneOf([]), /at least one value/);
});

test('list splits on commas, trims, drops empties and freezes', () => {
  const names = list().parse(' a, b ,,c ');
  assert.deepEqual(names, ['a', 'b', 'c']);
  assert.ok(Object.isFrozen(names));
  assert.deepEqual(list().parse(''), []);
  const ports = list(int({ min: 1 }));
  assert.deepEqual(ports.parse('80,443'), [80, 443]);
  assert.throws(() => ports.parse('80,x'), /entry "x": not an integer/);
  assert.equal(ports.format?.([80, 443]), '80,443');
  assert.equal(ports.expected, 'a comma-separated list of an integer >= 1');
});

test('hostPort parses IPv4, bracketed IPv6, hostnames and bare ports', () => {
  const hp = hostPort();
  assert.deepEqual(hp.parse('127.0.0.1:15010'), { host: '127.0.0.1', port: 15010 });
  assert.deepEqual(hp.parse('[::1]:15012'), { host: '::1', port: 15012 });
  assert.deepEqual(hp.parse(':15010'), { host: '', port: 15010 });
  assert.deepEqual(hp.parse('istiod.istio-system.svc:15012'), {
    host: 'istiod.istio-system.svc',
    port: 15012,
  });
  assert.ok(Object.isFrozen(hp.parse(':1')));
  assert.equal(hp.format?.({ host: '::1', port: 15012 }), '[::1]:15012');
  assert.equal(hp.format?.({ host: '', port: 15010 }), ':15010');
  assert.throws(() => hp.parse('::1:15012'), /not host:port/);
  assert.throws(() => hp.parse('127.0.0.1'), /not host:port/);
  assert.throws(() => hp.parse('127.0.0.1:'), /not host:port/);
  assert.throws(() => hp.parse('[127.0.0.1]:80'), /not an IPv6 address/);
  assert.throws(() => hp.parse('bad_host:80'), /not an IP address or hostname/);
  assert.throws(() => hp.parse('host:70000'), /above 65535/);
});

test('custom wraps a function and keeps its description', () => {
  const even = custom('an even integer', (raw) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n % 2 !== 0) throw new Error('odd or not a number');
    return n;
  });
  assert.equal(even.parse('4'), 4);
  assert.equal(even.expected, 'an even integer');
  assert.throws(() => even.parse('3'), /odd/);
});
