// tools/docker-here.sh on this host, as root: `start` (installing Debian's docker.io when absent)
// gives a Docker engine on its own socket that runs a privileged container (through the runtime
// wrapper where this host's capability bounding set needs it), `env` points a shell at it, `stop`
// ends dockerd and containerd, and at no point do the host's netfilter rules, links or sysctls
// differ from before. Each run uses its own data and run directories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rootOnly } from '@trellis/core/test-support';

const SCRIPT = fileURLToPath(new URL('../docker-here.sh', import.meta.url));
const DATA = `/var/lib/trellis-docker-test-${process.pid}`;
const RUN = `/run/trellis-docker-test-${process.pid}`;
const ENV = { ...process.env, TRELLIS_DOCKER_DATA: DATA, TRELLIS_DOCKER_RUN: RUN };

const here = (verb) =>
  spawnSync('bash', [SCRIPT, verb], { env: ENV, encoding: 'utf8', timeout: 10 * 60_000 });
const sh = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8' });

// Links the repo's other tests add and remove on the host while this one runs (local clusters'
// bridges and node veths); anything else appearing or vanishing is a finding.
const OTHER_TESTS_LINK = /^(tl-|tlh|tlp)/;
// Counters the kernel changes by itself (fs.quota.* are statistics too: syncs, lookups, ...).
const VOLATILE_SYSCTL = new Set([
  'fs.dentry-state',
  'fs.file-nr',
  'fs.inode-nr',
  'fs.inode-state',
  'kernel.ns_last_pid',
  'kernel.random.uuid',
  'kernel.random.entropy_avail',
  'net.netfilter.nf_conntrack_count',
  'kernel.pty.nr',
  'fs.aio-nr',
]);

function snapshot() {
  const links = sh('ip', ['-o', 'link', 'show'])
    .split('\n')
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1])
    .filter((n) => n && !OTHER_TESTS_LINK.test(n))
    .sort();
  const otherLinks = new Set(
    sh('ip', ['-o', 'link', 'show'])
      .split('\n')
      .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1])
      .filter((n) => n && OTHER_TESTS_LINK.test(n)),
  );
  const sysctl = new Map();
  for (const line of spawnSync('sysctl', ['-a'], { encoding: 'utf8' }).stdout.split('\n')) {
    const [k, v] = line.split(' = ');
    if (!k || VOLATILE_SYSCTL.has(k) || k.startsWith('fs.quota.')) continue;
    // Per-interface keys of the other tests' links come and go with them.
    const ifKey = /^net\.ipv[46]\.(conf|neigh)\.([^.]+)\./.exec(k)?.[2];
    if (ifKey && (OTHER_TESTS_LINK.test(ifKey) || otherLinks.has(ifKey))) continue;
    sysctl.set(k, v);
  }
  const rules = (cmd) =>
    sh(cmd, [])
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/, '[counters]'))
      .join('\n');
  return { links, sysctl, iptables: rules('iptables-save'), ip6tables: rules('ip6tables-save') };
}

function assertUnchanged(before, now, when) {
  assert.equal(now.iptables, before.iptables, `iptables rules ${when}`);
  assert.equal(now.ip6tables, before.ip6tables, `ip6tables rules ${when}`);
  assert.deepEqual(now.links, before.links, `host links ${when}`);
  const changed = [...new Set([...before.sysctl.keys(), ...now.sysctl.keys()])].filter(
    (k) => before.sysctl.get(k) !== now.sysctl.get(k),
  );
  assert.deepEqual(
    changed.map((k) => `${k}: ${before.sysctl.get(k)} -> ${now.sysctl.get(k)}`),
    [],
    `sysctls ${when}`,
  );
}

const alive = (pidFile) => {
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
};

test(
  'docker-here starts an engine that runs a privileged container and leaves the host as it was',
  { ...rootOnly('dockerd, mounts'), timeout: 15 * 60_000 },
  async (t) => {
    const before = snapshot();
    try {
      const started = Date.now();
      const start = here('start');
      assert.equal(start.status, 0, `start: ${start.stderr}`);
      t.diagnostic(
        `started in ${((Date.now() - started) / 1000).toFixed(1)} s: ${start.stderr.trim()}`,
      );
      assert.equal(here('status').status, 0);

      const env = here('env');
      assert.equal(env.stdout, `export DOCKER_HOST=unix://${RUN}/docker.sock\n`);
      const dockerHost = /DOCKER_HOST=(\S+)/.exec(env.stdout)[1];
      const docker = (...args) =>
        spawnSync('docker', args, {
          env: { ...process.env, DOCKER_HOST: dockerHost },
          encoding: 'utf8',
        });

      // A privileged container prints, and holds every capability this host's bounding set has.
      const run = docker(
        'run',
        '--rm',
        '--privileged',
        '--network',
        'none',
        'trellis/docker-here-probe:1',
        '/bin/sh',
        '-c',
        'echo hello from a privileged container; cat /proc/self/status',
      );
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^hello from a privileged container$/m);
      // Privileged: every capability Docker knows (0-37 in 20.10) that the host's bounding set has,
      // CAP_SYS_ADMIN and CAP_NET_ADMIN among them, which an unprivileged container lacks.
      const capBnd = /CapBnd:\s+(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1];
      const capEff = BigInt(`0x${/CapEff:\s+(\S+)/.exec(run.stdout)?.[1] ?? '0'}`);
      const known = (1n << 38n) - 1n;
      assert.equal(capEff & known, BigInt(`0x${capBnd}`) & known, 'privileged capabilities');
      assert.ok((capEff >> 21n) & 1n && (capEff >> 12n) & 1n, 'CAP_SYS_ADMIN and CAP_NET_ADMIN');
      const wrapped = existsSync(`${RUN}/use-wrapper`);
      t.diagnostic(`runtime wrapper ${wrapped ? 'in use' : 'not needed'} (host CapBnd ${capBnd})`);
      const lacksSysResource = ((BigInt(`0x${capBnd}`) >> 24n) & 1n) === 0n;
      assert.equal(wrapped, lacksSysResource, 'the wrapper only where CAP_SYS_RESOURCE is missing');

      assertUnchanged(before, snapshot(), 'while Docker runs');

      const stop = here('stop');
      assert.equal(stop.status, 0, stop.stderr);
      assert.equal(alive(`${RUN}/dockerd.pid`) || alive(`${RUN}/containerd.pid`), false);
      assert.equal(existsSync(`${RUN}/docker.sock`), false, 'socket removed');
      assert.equal(here('status').status, 3, 'status after stop: not running');
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.includes(DATA) || l.includes(RUN));
      assert.deepEqual(mounts, [], 'no mounts left under the data and run directories');
      assertUnchanged(before, snapshot(), 'after stop');
    } finally {
      here('stop');
      rmSync(DATA, { recursive: true, force: true });
      rmSync(RUN, { recursive: true, force: true });
    }
  },
);
