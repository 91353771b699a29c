import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLayout } from '../layout.pure.js';
import {
  coveringCidrs,
  requestableAddresses,
  inRange,
  intToIpv4,
  parseLbRange,
  rangeConflict,
  rangeSize,
  rangeWithin,
  type RangeContext,
} from './range.pure.js';

const span = (text: string) => {
  const r = parseLbRange(text);
  return `${intToIpv4(r.first)}-${intToIpv4(r.last)}`;
};

test('a CIDR leaves out its network and broadcast addresses; a range is taken as written', () => {
  assert.equal(span('10.200.0.0/28'), '10.200.0.1-10.200.0.14');
  assert.equal(span('10.200.0.0/31'), '10.200.0.0-10.200.0.1');
  assert.equal(span('10.200.0.7/32'), '10.200.0.7-10.200.0.7');
  assert.equal(span('10.200.0.10-10.200.0.20'), '10.200.0.10-10.200.0.20');
  assert.equal(span(' 10.200.0.10 - 10.200.1.0 '), '10.200.0.10-10.200.1.0');
  assert.equal(rangeSize(parseLbRange('10.200.0.0/16')), 65534);
});

test('bad --lb-range values are refused with what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['nonsense', /invalid --lb-range "nonsense": not an IPv4 CIDR or range/],
    ['10.200.0.1', /a single address is not a range; write it as A.B.C.D\/32/],
    ['10.200.0.300/28', /"10.200.0.300" is not an IPv4 address/],
    ['010.200.0.0/28', /"010.200.0.0" is not an IPv4 address/],
    ['10.200.0.0/33', /prefix length "33" must be 0 to 32/],
    ['10.200.0.5/28', /has host bits set; the block is 10.200.0.0\/28/],
    ['10.200.0.9-10.200.0.2', /10.200.0.2 comes before 10.200.0.9/],
    ['10.200.0.1-', /a range is two IPv4 addresses joined by "-"/],
    ['fd00::/120', /is not an IPv4 address/],
    ['10.0.0.0/8', /16777214 addresses is more than 65536 \(a \/16\)/],
    ['127.1.0.0/24', /overlaps 127.0.0.0\/8, loopback/],
    ['224.0.0.0/28', /multicast/],
    ['169.254.1.0/28', /link-local/],
  ];
  for (const [text, want] of cases) assert.throws(() => parseLbRange(text), want, text);
  // Every message shows the accepted forms.
  assert.throws(() => parseLbRange('x'), /give an IPv4 CIDR such as 10.200.0.0\/28/);
});

test('covering CIDRs hold exactly the range (the nodes route them)', () => {
  assert.deepEqual(coveringCidrs(parseLbRange('10.200.0.0/28')), [
    '10.200.0.1/32',
    '10.200.0.2/31',
    '10.200.0.4/30',
    '10.200.0.8/30',
    '10.200.0.12/31',
    '10.200.0.14/32',
  ]);
  assert.deepEqual(coveringCidrs(parseLbRange('10.200.0.0-10.200.0.255')), ['10.200.0.0/24']);
  assert.deepEqual(coveringCidrs(parseLbRange('10.200.0.7/32')), ['10.200.0.7/32']);
});

const host = [
  { dst: 'default', dev: 'eth0' },
  { dst: '192.0.2.0/24', dev: 'eth0' },
  { dst: '127.0.0.0/8', dev: 'lo' },
  { dst: '172.28.0.0/24', dev: 'tl-dev' },
  { dst: '172.28.0.1', dev: 'tl-dev' },
  { dst: '10.240.0.0/24', dev: 'tl-dev' },
];

function ctx(slot: number, over: Partial<RangeContext> = {}): RangeContext {
  const l = clusterLayout('dev', slot, 2, '/x');
  return {
    nodeSubnet: l.nodeSubnet,
    bridge: l.bridge,
    otherClusters: [],
    hostRoutes: host,
    ...over,
  };
}

test('the default range of each slot is the top of its own node network and clear of everything', () => {
  const ranges = [0, 1, 15].map((slot) =>
    parseLbRange(clusterLayout('dev', slot, 50, '/x').lbRange),
  );
  assert.deepEqual(
    ranges.map((r) => `${intToIpv4(r.first)}-${intToIpv4(r.last)}`),
    ['172.28.0.193-172.28.0.254', '172.28.1.193-172.28.1.254', '172.28.15.193-172.28.15.254'],
  );
  // The host routes its own bridge's subnet: that is the cluster's, not a conflict.
  assert.equal(rangeConflict(ranges[0]!, ctx(0)), undefined);
  // Beside two other running clusters (slots 0 and 15), slot 1's default is free.
  const others = [
    { name: 'a', range: ranges[0]! },
    { name: 'b', range: ranges[2]! },
  ];
  assert.equal(rangeConflict(ranges[1]!, ctx(1, { otherClusters: others })), undefined);
  const l = clusterLayout('dev', 0, 50, '/x');
  const lb = parseLbRange(l.lbRange);
  assert.ok(rangeWithin(lb, l.nodeSubnet));
  assert.ok(l.nodes.every((n) => !inRange(lb, n.ip)) && !inRange(lb, l.hostIP));
});

test('a range that would collide with the host, a local cluster or another cluster is refused', () => {
  const cases: Array<[string, RangeContext, RegExp]> = [
    ['192.0.2.0/28', ctx(0), /overlaps the host's route to 192.0.2.0\/24 on eth0/],
    ['10.96.5.0/28', ctx(0), /overlaps 10.96.0.0\/12, the local clusters’ service ranges/],
    ['10.241.0.0/28', ctx(0), /overlaps 10.240.0.0\/12, the local clusters’ pod ranges/],
    ['172.28.3.192/26', ctx(0), /overlaps 172.28.0.0\/20, the local clusters’ node networks/],
    [
      '172.28.0.32/27',
      ctx(0),
      /overlaps 172.28.0.0\/26, the host and node addresses of this cluster/,
    ],
    [
      '10.200.0.0/24',
      ctx(0, { otherClusters: [{ name: 'other', range: parseLbRange('10.200.0.128/25') }] }),
      /overlaps the range 10.200.0.128\/25 of local cluster "other"/,
    ],
  ];
  for (const [text, c, want] of cases)
    assert.match(rangeConflict(parseLbRange(text), c) ?? '', want, text);
  assert.equal(rangeConflict(parseLbRange('10.200.0.0/28'), ctx(0)), undefined);
  assert.equal(rangeConflict(parseLbRange('172.28.0.64-172.28.0.80'), ctx(0)), undefined);
});

test('requestable addresses: the top of the range (never .0 or .255) and one just outside it', () => {
  assert.deepEqual(requestableAddresses(parseLbRange('172.28.3.192/26')), {
    usable: '172.28.3.254',
    unusable: '172.28.3.192',
  });
  assert.deepEqual(requestableAddresses(parseLbRange('10.0.0.10-10.0.0.20')), {
    usable: '10.0.0.20',
    unusable: '10.0.0.9',
  });
});
