import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeFsBinds, pluginArgv } from './cni-node-fs.pure.js';

const ROOT = '/var/lib/trellis/clusters/c/nodes/n1/root';
const KEEP = ['/var/lib/trellis/clusters/c/nodes/n1', '/work/repo'];

test("a plugin gets the node's directories at the host paths its pods used", () => {
  assert.deepEqual(
    nodeFsBinds(
      [
        '/etc/cni/net.d',
        '/opt/cni/bin',
        '/var/run/istio-cni/',
        '/var/run/istio-cni/sub',
        '/etc/cni/net.d',
      ],
      ROOT,
      KEEP,
    ),
    [
      { source: `${ROOT}/etc/cni/net.d`, target: '/etc/cni/net.d' },
      { source: `${ROOT}/opt/cni/bin`, target: '/opt/cni/bin' },
      { source: `${ROOT}/var/run/istio-cni`, target: '/var/run/istio-cni' },
    ],
  );
});

test('host-shared paths, their ancestors and paths hiding what the plugin needs stay the host’s', () => {
  assert.deepEqual(
    nodeFsBinds(
      [
        '/run/netns',
        '/proc/sys',
        '/var/run',
        '/',
        '/usr',
        '/var/lib',
        '/work',
        '/lib/modules',
        'rel',
        '/a/../etc',
      ],
      ROOT,
      KEEP,
    ),
    [],
  );
  assert.deepEqual(nodeFsBinds(['/usr/local/bin'], ROOT, KEEP), [
    { source: `${ROOT}/usr/local/bin`, target: '/usr/local/bin' },
  ]);
});

test('the plugin command binds in a mount namespace of its own, then execs the plugin', () => {
  assert.deepEqual(pluginArgv('/opt/bridge', []), ['/opt/bridge']);
  const argv = pluginArgv('/opt/bridge', [{ source: '/s', target: '/t' }]);
  assert.deepEqual(argv.slice(0, 5), [
    '/usr/bin/unshare',
    '--mount',
    '--propagation',
    'slave',
    '--',
  ]);
  assert.deepEqual(argv.slice(-4), ['1', '/s', '/t', '/opt/bridge']);
});
