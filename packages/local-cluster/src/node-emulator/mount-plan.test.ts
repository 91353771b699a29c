// Mount propagation of real container launches (root): a host mount made under a source after the
// container started reaches it with HostToContainer and Bidirectional, never with None; a mount
// the container makes reaches the host only through a Bidirectional mount; the container's own
// bind mounts never appear on the host, even where the host's mounts are shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchArgv, type Mount } from '../container-launch.pure.js';
import { parseMountinfo } from '../mount-propagation.pure.js';
import { launchPropagation, makeRShared } from './mount-plan.js';

const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
const hostMountPoints = () =>
  parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).map((m) => m.mountPoint);

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test(
  'None, HostToContainer and Bidirectional behave as on a kubelet node (root only)',
  { skip: process.getuid?.() !== 0 && 'needs root' },
  async () => {
    const base = mkdtempSync(`${tmpdir()}/trellis-propagation-${process.pid}-`);
    const node = `${base}/node`; // the node dir, made rshared as the emulator does
    const ctr = `${base}/ctr`; // where the container's mount points are: shared too, like a systemd /
    let child: ReturnType<typeof spawn> | undefined;
    try {
      for (const d of ['none', 'h2c', 'bidi']) {
        mkdirSync(`${node}/${d}/later`, { recursive: true });
        mkdirSync(`${ctr}/${d}`, { recursive: true });
      }
      await makeRShared(node);
      await makeRShared(node); // idempotent: no second mount stacked
      assert.equal(hostMountPoints().filter((p) => p === node).length, 1);
      await makeRShared(ctr);
      const mounts: Mount[] = [
        { source: `${node}/none`, target: `${ctr}/none`, readOnly: false, propagation: 'None' },
        {
          source: `${node}/h2c`,
          target: `${ctr}/h2c`,
          readOnly: false,
          propagation: 'HostToContainer',
        },
        {
          source: `${node}/bidi`,
          target: `${ctr}/bidi`,
          readOnly: false,
          propagation: 'Bidirectional',
        },
      ];
      const plan = await launchPropagation(mounts);
      assert.equal(plan.root, 'unchanged');
      assert.deepEqual(plan.keepShared, [node]);
      const script = [
        `touch ${base}/ready`,
        `while [ ! -e ${base}/go ]; do sleep 0.05; done`,
        `for d in none h2c bidi; do [ -e ${ctr}/$d/later/marker ] && echo "$d:sees-host-mount" || echo "$d:blind"; done`,
        `mkdir -p ${ctr}/bidi/fromctr ${ctr}/none/fromctr && mount -t tmpfs from-ctr ${ctr}/bidi/fromctr && touch ${ctr}/bidi/fromctr/m`,
        `mount -t tmpfs from-ctr ${ctr}/none/fromctr && touch ${ctr}/none/fromctr/m`,
        `touch ${base}/done; while [ ! -e ${base}/exit ]; do sleep 0.05; done`,
      ].join('\n');
      const argv = launchArgv({
        mounts,
        rootPropagation: plan.root,
        keepShared: plan.keepShared,
        argv: ['sh', '-c', script],
      });
      const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let out = '';
      proc.stdout.on('data', (d) => (out += d));
      proc.stderr.on('data', (d) => (out += d));
      const exited = new Promise((r) => proc.once('exit', r));
      await until(
        'the container to start',
        () => existsSync(`${base}/ready`) || proc.exitCode !== null,
      );
      assert.ok(existsSync(`${base}/ready`), out);
      // None of the container's bind mounts is visible on the host.
      assert.deepEqual(
        hostMountPoints().filter((p) => p.startsWith(`${ctr}/`)),
        [],
        'the container mounts stay in the container',
      );
      for (const d of ['none', 'h2c', 'bidi'])
        sh(`mount -t tmpfs from-host ${node}/${d}/later && touch ${node}/${d}/later/marker`);
      writeFileSync(`${base}/go`, '');
      await until(
        'the container to check',
        () => existsSync(`${base}/done`) || proc.exitCode !== null,
      );
      assert.match(out, /none:blind/);
      assert.match(out, /h2c:sees-host-mount/);
      assert.match(out, /bidi:sees-host-mount/);
      assert.ok(
        existsSync(`${node}/bidi/fromctr/m`),
        'a Bidirectional mount carries the container mount to the host',
      );
      assert.ok(!existsSync(`${node}/none/fromctr/m`), 'a None mount keeps it in the container');
      writeFileSync(`${base}/exit`, '');
      await exited;
    } finally {
      if (child?.exitCode === null) child.kill('SIGKILL');
      const points = hostMountPoints()
        .filter((p) => p.startsWith(`${base}/`))
        .sort((a, b) => b.length - a.length);
      for (const p of points) sh(`umount -l '${p}' || true`);
      rmSync(base, { recursive: true, force: true });
    }
  },
);
