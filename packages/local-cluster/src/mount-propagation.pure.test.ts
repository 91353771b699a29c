import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mountContaining,
  mountPropagation,
  parseMountinfo,
  propagationPlan,
} from './mount-propagation.pure.js';

const MOUNTINFO = [
  '22 1 254:1 / / rw,relatime - ext4 /dev/vda rw',
  '25 22 0:5 / /proc rw shared:3 - proc proc rw',
  '40 22 254:1 /run/netns /run/netns rw shared:9 - ext4 /dev/vda rw',
  '41 40 0:4 net:[4026532241] /run/netns/pod\\040a rw shared:9 - nsfs nsfs rw',
  '50 22 254:1 /var/lib/nodes/n1 /var/lib/nodes/n1 rw shared:12 master:4 - ext4 /dev/vda rw',
  '51 22 254:1 /srv/slave /srv/slave rw master:7 - ext4 /dev/vda rw',
].join('\n');

test('mountinfo: mount points (escapes decoded) and their propagation', () => {
  const m = parseMountinfo(MOUNTINFO);
  assert.deepEqual(m[0], { mountPoint: '/', shared: false, slave: false });
  assert.deepEqual(m[3], { mountPoint: '/run/netns/pod a', shared: true, slave: false });
  assert.deepEqual(m[4], { mountPoint: '/var/lib/nodes/n1', shared: true, slave: true });
  assert.equal(mountContaining(m, '/run/netns/x')?.mountPoint, '/run/netns');
  assert.equal(mountContaining(m, '/run/netnsx')?.mountPoint, '/');
  assert.equal(mountContaining(m, '/var/lib/nodes/n1/root/etc')?.mountPoint, '/var/lib/nodes/n1');
});

test('mountPropagation: None by default, kubelet refuses unknown values and unprivileged Bidirectional', () => {
  const c = { name: 'agent' };
  assert.equal(mountPropagation({ name: 'v' }, c), 'None');
  assert.equal(
    mountPropagation({ name: 'v', mountPropagation: 'HostToContainer' }, c),
    'HostToContainer',
  );
  assert.throws(
    () => mountPropagation({ name: 'v', mountPropagation: 'rslave' }, c),
    /container agent: volumeMount "v": invalid mountPropagation "rslave"/,
  );
  assert.throws(
    () => mountPropagation({ name: 'v', mountPropagation: 'Bidirectional' }, c),
    /Bidirectional mount propagation is available only to privileged containers/,
  );
  assert.equal(
    mountPropagation(
      { name: 'v', mountPropagation: 'Bidirectional' },
      { name: 'csi', securityContext: { privileged: true } },
    ),
    'Bidirectional',
  );
});

test('the plan: private by default, a slave root for HostToContainer, shared sources kept for Bidirectional', () => {
  const host = parseMountinfo(MOUNTINFO);
  const none = {
    source: '/var/lib/nodes/n1/root/etc',
    target: '/etc/x',
    propagation: 'None' as const,
  };
  const netns = {
    source: '/run/netns',
    target: '/host/run/netns',
    propagation: 'HostToContainer' as const,
  };
  const bidi = {
    source: '/var/lib/nodes/n1/root/mnt',
    target: '/mnt',
    propagation: 'Bidirectional' as const,
  };
  assert.deepEqual(propagationPlan([none], host), {
    root: 'private',
    keepShared: [],
    warnings: [],
  });
  assert.deepEqual(propagationPlan([none, netns], host), {
    root: 'slave',
    keepShared: [],
    warnings: [],
  });
  assert.deepEqual(propagationPlan([netns, bidi], host), {
    root: 'unchanged',
    keepShared: ['/var/lib/nodes/n1'],
    warnings: [],
  });
  assert.deepEqual(
    propagationPlan([{ source: '/opt/x', target: '/x', propagation: 'HostToContainer' }], host)
      .warnings,
    [
      'HostToContainer mount of /opt/x: it is on the private mount /; the container sees nothing mounted there later',
    ],
  );
  assert.throws(
    () => propagationPlan([{ source: '/opt/x', target: '/x', propagation: 'Bidirectional' }], host),
    /Bidirectional mount of \/opt\/x: it is on the mount \/, which is not a shared mount/,
  );
  assert.throws(
    () =>
      propagationPlan(
        [bidi, { source: '/run/netns', target: '/var/lib/nodes/n1/y', propagation: 'None' }],
        host,
      ),
    /mount target \/var\/lib\/nodes\/n1\/y is on \/var\/lib\/nodes\/n1, which a Bidirectional mount keeps shared/,
  );
  const sharedRoot = parseMountinfo('1 0 254:1 / / rw shared:1 - ext4 /dev/vda rw');
  assert.throws(
    () =>
      propagationPlan(
        [{ source: '/opt/x', target: '/x', propagation: 'Bidirectional' }],
        sharedRoot,
      ),
    /on the host's root mount/,
  );
});
