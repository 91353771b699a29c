// deploy/images on this host, as root, with the Docker engine of tools/docker-here.sh (started
// when not running, and then stopped again): base/build-base.sh gives trellis/base:<node> (cached
// across runs, skipped when present), build.sh builds every component image on it, and in each
// image the component answers --help (the samples: the echo server serves a request, the
// echo-advanced server answers --help), runs as the user its Dockerfile names (1337 where the
// component allows, root for ztunnel and the CNI agent), and the CNI image holds a plugin
// executable that speaks CNI. The images get a tag of their own and are removed at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { rootOnly } from '@trellis/core/test-support';

const path = (p) => fileURLToPath(new URL(p, import.meta.url));
const DOCKER_HERE = path('../../tools/docker-here.sh');
const TAG = `test-${process.pid}`;
const LONG = 40 * 60_000;

const run = (cmd, args, env = {}) =>
  spawnSync(cmd, args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: LONG,
    maxBuffer: 64 << 20,
  });

// Component, what --help prints first, the user it runs as.
const COMPONENTS = [
  ['control-plane', /^trellis-control-plane: /, '1337:1337'],
  ['ztunnel', /^trellis-ztunnel: /, '0:1337'],
  ['waypoint', /^trellis-waypoint: /, '1337:1337'],
  ['cni', /^trellis-cni-agent \[uninstall\]: /, '0:0'],
  ['echo-advanced', /^Usage: server \[flags\]/, '1337:1337'],
  ['echo', null, '1337:1337'],
];

test(
  'every component image builds on the local base and its program runs in it',
  { ...rootOnly('dockerd, mmdebstrap'), timeout: LONG },
  async (t) => {
    const started = run('bash', [DOCKER_HERE, 'status']).status !== 0;
    if (started) {
      const start = run('bash', [DOCKER_HERE, 'start']);
      assert.equal(start.status, 0, `docker-here start: ${start.stderr}`);
    }
    const env = {
      DOCKER_HOST: /DOCKER_HOST=(\S+)/.exec(run('bash', [DOCKER_HERE, 'env']).stdout)[1],
    };
    const docker = (...args) => run('docker', args, env);
    try {
      let at = Date.now();
      const base = run('bash', [path('base/build-base.sh')], env);
      assert.equal(base.status, 0, `build-base.sh: ${base.stderr}`);
      const baseRef = base.stdout.trim();
      assert.match(baseRef, /^trellis\/base:\d+\.\d+\.\d+$/);
      assert.equal(
        docker('run', '--rm', '--network', 'none', baseRef, 'node', '-p', 'process.version').stdout,
        `v${baseRef.split(':')[1]}\n`,
      );
      t.diagnostic(`base ${baseRef} in ${((Date.now() - at) / 1000).toFixed(0)} s`);

      at = Date.now();
      const built = run(
        'bash',
        [path('build.sh'), '--base', baseRef, '--tag', TAG, '--no-build'],
        env,
      );
      assert.equal(built.status, 0, `build.sh: ${built.stderr}`);
      const sizes = Object.fromEntries(
        built.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(' ')),
      );
      assert.deepEqual(
        Object.keys(sizes).sort(),
        COMPONENTS.map(([c]) => `trellis/${c}:${TAG}`).sort(),
      );
      t.diagnostic(
        `built in ${((Date.now() - at) / 1000).toFixed(0)} s: ${Object.entries(sizes)
          .map(([r, s]) => `${r} ${(Number(s) / 1e6).toFixed(0)} MB`)
          .join(', ')}`,
      );

      for (const [c, help, user] of COMPONENTS) {
        const image = `trellis/${c}:${TAG}`;
        const id = docker(
          'run',
          '--rm',
          '--network',
          'none',
          '--entrypoint',
          'sh',
          image,
          '-c',
          'echo "$(id -u):$(id -g)"',
        );
        assert.equal(id.stdout, `${user}\n`, `${c} runs as ${user}: ${id.stderr}`);
        if (help) {
          const h = docker('run', '--rm', '--network', 'none', image, '--help');
          assert.equal(h.status, 0, `${c} --help: ${h.stderr}`);
          assert.match(h.stdout, help, `${c} --help`);
        }
      }

      // The echo sample serves HTTP: started in its image, asked from inside the container.
      const echo = docker(
        'run',
        '--rm',
        '--network',
        'none',
        '--env',
        'POD_NAME=echo-test',
        '--entrypoint',
        'sh',
        `trellis/echo:${TAG}`,
        '-c',
        `node /app/packages/local-cluster/dist/echo-server.js & node -e '
          const ask = (n) => fetch("http://127.0.0.1:8080/hello").then((r) => r.text()).then(
            (b) => { console.log(b); process.exit(0); },
            () => (n > 0 ? setTimeout(ask, 100, n - 1) : process.exit(1)));
          ask(100);'`,
      );
      assert.equal(echo.status, 0, `echo: ${echo.stderr}`);
      // The server's own log line first, then the reply.
      const reply = JSON.parse(echo.stdout.trim().split('\n').at(-1));
      assert.equal(reply.pod, 'echo-test');
      assert.equal(reply.path, '/hello');

      // The CNI image carries the plugin executable the agent installs; it answers VERSION.
      const plugin = docker(
        'run',
        '--rm',
        '--network',
        'none',
        '--env',
        'CNI_COMMAND=VERSION',
        '--entrypoint',
        '/app/packages/cni/dist/trellis-cni',
        `trellis/cni:${TAG}`,
      );
      assert.equal(plugin.status, 0, `trellis-cni VERSION: ${plugin.stderr}`);
      assert.ok(JSON.parse(plugin.stdout).supportedVersions.includes('1.0.0'), plugin.stdout);
    } finally {
      docker('rmi', ...COMPONENTS.map(([c]) => `trellis/${c}:${TAG}`));
      if (started) run('bash', [DOCKER_HERE, 'stop']);
    }
  },
);
