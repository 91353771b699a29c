import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isIP as nodeIsIP } from 'node:net';
import fc from 'fast-check';
import {
  canonicalIp,
  cidrContains,
  ipFamily,
  ipFromBytes,
  ipToBytes,
  isIP,
  isIPv4,
  isIPv6,
  isLoopbackIp,
  networkAddress,
  parseCidr,
  type Cidr,
} from './ip.js';

const cidr = (text: string): Cidr => {
  const r = parseCidr(text);
  assert.ok(r.ok, text);
  return r.value;
};

test('canonicalIp writes IPv4 as a dotted quad and IPv6 per RFC 5952', () => {
  const cases: [string, string | undefined][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal zero runs
    ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['::', '::'],
    ['::1', '::1'],
    ['::ffff:10.1.2.3', '10.1.2.3'], // what a dual-stack socket reports for an IPv4 peer
    ['::ffff:a01:203', '10.1.2.3'],
    ['10.0.0', undefined],
    ['10.0.0.256', undefined],
    ['010.0.0.1', undefined],
    ['1::2::3', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['fe80::1%eth0', undefined],
    ['', undefined],
  ];
  for (const [input, want] of cases) assert.equal(canonicalIp(input), want, input);
});

test('ipFromBytes accepts 4 or 16 bytes only', () => {
  assert.equal(ipFromBytes(new Uint8Array([192, 168, 0, 1])), '192.168.0.1');
  assert.equal(ipFromBytes(ipToBytes('fd00::a')!), 'fd00::a');
  assert.equal(ipFromBytes(new Uint8Array([1, 2, 3])), undefined);
  assert.equal(ipFromBytes(new Uint8Array(0)), undefined);
});

test('cidrContains compares the prefix bits, never across families', () => {
  assert.equal(cidrContains(cidr('10.0.0.0/8'), '10.200.3.4'), true);
  assert.equal(cidrContains(cidr('10.0.0.0/8'), '11.0.0.1'), false);
  assert.equal(cidrContains(cidr('10.1.2.0/23'), '10.1.3.255'), true);
  assert.equal(cidrContains(cidr('10.1.2.0/23'), '10.1.4.0'), false);
  assert.equal(cidrContains(cidr('0.0.0.0/0'), '8.8.8.8'), true);
  assert.equal(cidrContains(cidr('0.0.0.0/0'), 'fd00::1'), false);
  assert.equal(cidrContains(cidr('127.0.0.1'), '127.0.0.1'), true);
  assert.equal(cidrContains(cidr('127.0.0.1'), '127.0.0.2'), false);
  assert.equal(cidrContains(cidr('fd00::/16'), 'fd00:1::5'), true);
  assert.equal(cidrContains(cidr('fd00::/16'), 'fd01::5'), false);
  assert.equal(cidrContains(cidr('10.0.0.0/8'), '::ffff:10.9.9.9'), true);
});

test('parseCidr says what is wrong', () => {
  const reason = (text: string) => {
    const r = parseCidr(text);
    return r.ok ? '' : r.reason;
  };
  assert.match(reason('10.0.0/8'), /"10.0.0" is not an IP address/);
  assert.match(reason('10.0.0.0/33'), /prefix length "33" must be 0 to 32/);
  assert.match(reason('fd00::/129'), /must be 0 to 128/);
  assert.match(reason('10.0.0.0/'), /prefix length "" must be 0 to 32/);
});

test('networkAddress masks an address to its range, per family', () => {
  assert.equal(networkAddress('10.1.2.3', 24), '10.1.2.0');
  assert.equal(networkAddress('10.1.3.255', 23), '10.1.2.0');
  assert.equal(networkAddress('::ffff:10.9.9.9', 8), '10.0.0.0');
  assert.equal(networkAddress('fd00:1::5', 16), 'fd00::');
  assert.equal(networkAddress('8.8.8.8', 0), '0.0.0.0');
  assert.equal(networkAddress('10.0.0.1', 33), undefined);
  assert.equal(networkAddress('nope', 8), undefined);
});

test('property: networkAddress agrees with cidrContains', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  fc.assert(
    fc.property(v4, v4, fc.integer({ min: 0, max: 32 }), (a, b, len) => {
      const inSame = networkAddress(a, len) === networkAddress(b, len);
      assert.equal(
        cidrContains({ address: networkAddress(a, len)!, prefixLength: len }, b),
        inSame,
      );
    }),
    { seed: 42, numRuns: 500 },
  );
});

test('loopback addresses', () => {
  for (const ip of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1'])
    assert.equal(isLoopbackIp(ip), true, ip);
  for (const ip of ['10.0.0.1', '::', '0.0.0.0', '::ffff:10.0.0.1', 'fe80::1', 'localhost', ''])
    assert.equal(isLoopbackIp(ip), false, ip);
});

test('families and notations', () => {
  assert.equal(ipFamily('::ffff:127.0.0.1'), 4);
  assert.equal(ipFamily('::1'), 6);
  assert.equal(ipFamily('pod-a'), undefined);
  assert.equal(isIPv4('10.0.0.1'), true);
  assert.equal(isIPv4('::ffff:10.0.0.1'), false);
  assert.equal(isIPv6('::ffff:10.0.0.1'), true);
  assert.equal(isIPv6('10.0.0.1'), false);
  assert.equal(isIP('localhost'), false);
});

test('property: every address node:net accepts (without zone or leading zeros) round-trips', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  const v6 = fc.ipV6();
  fc.assert(
    fc.property(fc.oneof(v4, v6), (text) => {
      const canonical = canonicalIp(text);
      assert.notEqual(canonical, undefined, text);
      // Canonical text is a fixed point and names the same bytes (mapped IPv4 aside).
      assert.equal(canonicalIp(canonical!), canonical);
      assert.equal(nodeIsIP(canonical!), ipFamily(text));
      const bytes = ipToBytes(canonical!)!;
      assert.equal(ipFromBytes(bytes), canonical);
    }),
    { seed: 42, numRuns: 500 },
  );
});

test('property: any string is either refused or an address node:net also accepts', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-fA-F:.%]{0,45}$/)), (text) => {
      const canonical = canonicalIp(text);
      if (canonical !== undefined) assert.notEqual(nodeIsIP(text), 0, text);
    }),
    { seed: 42, numRuns: 500 },
  );
});
