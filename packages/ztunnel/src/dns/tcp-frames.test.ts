import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameReader, frame } from './tcp-frames.js';
import { resolvConfNameservers } from './resolv-conf.js';

test('TCP frames: messages split and joined across chunks', () => {
  const r = new FrameReader();
  const stream = Buffer.concat([
    frame(Buffer.from('abc')),
    frame(Buffer.alloc(0)),
    frame(Buffer.from('de')),
  ]);
  assert.deepEqual(r.push(stream.subarray(0, 1)), []);
  assert.deepEqual(r.push(stream.subarray(1, 4)).map(String), []);
  assert.deepEqual(r.push(stream.subarray(4, 8)).map(String), ['abc', '']);
  assert.equal(r.pending, 1);
  assert.deepEqual(r.push(stream.subarray(8)).map(String), ['de']);
  assert.throws(() => frame(Buffer.alloc(70000)), /does not fit a TCP frame/);
});

test('nameservers from a resolv.conf, in order, bad lines skipped', () => {
  assert.deepEqual(
    resolvConfNameservers(
      [
        '# generated',
        'search shop.svc.cluster.local svc.cluster.local',
        'nameserver 10.96.0.10',
        'nameserver   fd00::a ; second',
        'nameserver not-an-ip',
        'nameserver fe80::1%eth0',
        'options ndots:5',
      ].join('\n'),
    ),
    ['10.96.0.10', 'fd00::a'],
  );
});
