import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { rootOnly } from '@trellis/core/test-support';
import { hostPathSource, launchArgv } from './container-launch.pure.js';

test('a pod container enters the pod netns, then a private mount namespace', () => {
  const argv = launchArgv({ netnsPath: '/run/netns/p', mounts: [], argv: ['node', 'a.js'] });
  assert.deepEqual(argv.slice(0, 7), [
    'nsenter',
    '--net=/run/netns/p',
    '--',
    'unshare',
    '--mount',
    '--propagation',
    'private',
  ]);
  assert.deepEqual(argv.slice(-2), ['node', 'a.js']);
  assert.equal(launchArgv({ mounts: [], argv: ['x'] })[0], 'unshare');
  assert.throws(() => launchArgv({ mounts: [], argv: [] }), /container has no command/);
});

test('hostPath volumes live in the node root except the shared host paths', () => {
  assert.equal(hostPathSource('/etc/cni/net.d', '/n/root'), '/n/root/etc/cni/net.d');
  assert.equal(hostPathSource('/var/run/netns/', '/n/root'), '/var/run/netns');
  assert.equal(hostPathSource('/proc', '/n/root'), '/proc');
});

test(
  'the launch command bind-mounts volumes read-only where asked, changes directory and execs (root only)',
  rootOnly('bind mounts'),
  () => {
    const dir = mkdtempSync(`${tmpdir()}/trellis-launch-`);
    try {
      mkdirSync(`${dir}/src`);
      mkdirSync(`${dir}/target`);
      writeFileSync(`${dir}/src/token`, 'secret-token');
      const argv = launchArgv({
        mounts: [{ source: `${dir}/src`, target: `${dir}/target`, readOnly: true }],
        workingDir: `${dir}/target`,
        argv: ['sh', '-c', 'cat token; touch x 2>/dev/null && echo writable || echo readonly'],
      });
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'secret-tokenreadonly\n');
      const after = spawnSync('ls', [`${dir}/target`], { encoding: 'utf8' });
      assert.equal(after.stdout, '', 'the mount stays private to the container');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
