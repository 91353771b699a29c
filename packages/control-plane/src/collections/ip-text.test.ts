import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipBytes, isIP, normalizeIP } from './ip-text.js';

test('IPv4 and IPv6 text become 4 or 16 bytes', () => {
  assert.deepEqual([...ipBytes('10.244.1.5')!], [10, 244, 1, 5]);
  assert.deepEqual([...ipBytes('::1')!], [...new Array(15).fill(0), 1]);
  assert.deepEqual([...ipBytes('fd00:10::2')!], [0xfd, 0, 0, 0x10, ...new Array(11).fill(0), 2]);
  assert.deepEqual(
    [...ipBytes('::ffff:10.0.0.1')!],
    [...new Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 1],
  );
  assert.deepEqual(
    [...ipBytes('1:2:3:4:5:6:7:8')!],
    [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8],
  );
});

test('things that are not IP addresses are refused', () => {
  for (const bad of [
    '',
    'None',
    '10.0.0',
    '10.0.0.256',
    '01.2.3.4x',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    'fe80::1%eth0',
    'host.local',
    '12345::',
  ]) {
    assert.equal(isIP(bad), false, bad);
  }
});

test('addresses are normalised: IPv4-mapped IPv6 becomes IPv4, IPv6 takes its RFC 5952 form', () => {
  assert.equal(normalizeIP('10.0.0.7'), '10.0.0.7');
  assert.equal(normalizeIP('::ffff:10.0.0.7'), '10.0.0.7');
  assert.equal(normalizeIP('::FFFF:a00:7'), '10.0.0.7');
  assert.equal(normalizeIP('FD00:0:0:0:0:0:0:1'), 'fd00::1');
  assert.equal(normalizeIP('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(normalizeIP('::'), '::');
  assert.equal(normalizeIP('1:0:2:3:4:5:6:7'), '1:0:2:3:4:5:6:7');
  for (const bad of ['999.1.2.3', 'not-an-ip', '10.0.0', ''])
    assert.equal(normalizeIP(bad), undefined, bad);
});
