import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
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
  assert.deepEqual(argv.slice(-1), ['a.js']);
  const named = launchArgv({ netnsPath: '/p', hostname: 'web-1', mounts: [], argv: ['x'] });
  assert.deepEqual(named.slice(3, 6), ['unshare', '--mount', '--uts']);
  assert.equal(launchArgv({ mounts: [], argv: ['x'] })[0], 'unshare');
  assert.throws(() => launchArgv({ mounts: [], argv: [] }), /container has no command/);
});

test('hostPath volumes live in the node root except the shared host paths', () => {
  assert.equal(hostPathSource('/etc/cni/net.d', '/n/root'), '/n/root/etc/cni/net.d');
  assert.equal(hostPathSource('/var/run/netns/', '/n/root'), '/var/run/netns');
  assert.equal(hostPathSource('/proc', '/n/root'), '/proc');
});

test(
  'the launch command sets the hostname, bind-mounts volumes read-only where asked, changes directory and execs (root only)',
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
        hostname: `pod-${process.pid}`,
        argv: [
          'sh',
          '-c',
          'cat token; touch x 2>/dev/null && echo writable || echo readonly; hostname',
        ],
      });
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `secret-tokenreadonly\npod-${process.pid}\n`);
      assert.notEqual(hostname(), `pod-${process.pid}`, "the host's name is untouched");
      const after = spawnSync('ls', [`${dir}/target`], { encoding: 'utf8' });
      assert.equal(after.stdout, '', 'the mount stays private to the container');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'a program whose directory a volume hides still runs, from a descriptor opened before the mounts (root only)',
  { skip: process.getuid?.() !== 0 && 'needs root' },
  () => {
    const dir = mkdtempSync(`${tmpdir()}/trellis-launch-`);
    try {
      mkdirSync(`${dir}/tools`);
      mkdirSync(`${dir}/config`);
      copyFileSync('/bin/cat', `${dir}/tools/show`);
      writeFileSync(`${dir}/config/Corefile`, 'from the volume\n');
      const argv = launchArgv({
        mounts: [{ source: `${dir}/config`, target: `${dir}/tools`, readOnly: true }],
        argv: [`${dir}/tools/show`, `${dir}/tools/Corefile`],
      });
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'from the volume\n');
      const plain = launchArgv({ mounts: [], argv: ['sh', '-c', 'ls /proc/$$/fd'] });
      const fds = spawnSync(plain[0]!, plain.slice(1), { encoding: 'utf8' });
      assert.equal(
        fds.stdout.split('\n').includes('9'),
        false,
        'no descriptor left open otherwise',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'a directory the program needs stays visible where it is when a volume covers an ancestor: a repo under an emptyDir at /tmp (root only)',
  rootOnly('bind mounts'),
  () => {
    const dir = mkdtempSync(`${tmpdir()}/trellis-launch-`);
    try {
      mkdirSync(`${dir}/parent/repo/dist`, { recursive: true });
      mkdirSync(`${dir}/emptydir`);
      writeFileSync(`${dir}/parent/repo/dist/main.js`, 'the program\n');
      const hidden = launchArgv({
        mounts: [{ source: `${dir}/emptydir`, target: `${dir}/parent`, readOnly: false }],
        argv: ['sh', '-c', 'ls "$0"/repo 2>&1 || true', `${dir}/parent`],
      });
      const h = spawnSync(hidden[0]!, hidden.slice(1), { encoding: 'utf8' });
      assert.match(h.stdout, /No such file/, 'without keepVisible the volume hides it');
      const argv = launchArgv({
        mounts: [{ source: `${dir}/emptydir`, target: `${dir}/parent`, readOnly: false }],
        keepVisible: `${dir}/parent/repo`,
        argv: ['sh', '-c', 'cat "$0"/repo/dist/main.js; ls "$0"; ls /proc/$$/fd', `${dir}/parent`],
      });
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const [program, listing, ...fds] = r.stdout.trim().split('\n');
      assert.equal(program, 'the program', 'the repo is seen through the volume');
      assert.equal(listing, 'repo', 'the volume itself is what the container sees around it');
      assert.equal(fds.includes('8'), false, 'the descriptor is closed before the program runs');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
