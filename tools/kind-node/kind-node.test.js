// tools/kind-node on this host, as root, with the Docker engine of tools/docker-here.sh (started
// when not running, and then stopped again): build.sh gives trellis/kind-node:<k8s version>
// (cached across runs, skipped when present), and `kind create cluster --image` with it brings up
// a cluster whose node turns Ready, whose CoreDNS and a pod of our own run, and which
// `kind delete cluster` removes again, with its containers and network. Not part of `npm test`
// (a cold build takes minutes): `npm run test:kind`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { rootOnly } from '@trellis/core/test-support';

const path = (p) => fileURLToPath(new URL(p, import.meta.url));
const DOCKER_HERE = path('../docker-here.sh');
const BUILD = path('./build.sh');
const GO_TOOL = path('../go-tool.sh');
const CLUSTER = `trellis-kind-${process.pid}`;
// kind's nodes join this Docker network (kind's default, "kind", outlives every cluster).
const NETWORK = `trellis-kind-${process.pid}`;
const LONG = 60 * 60_000;

const run = (cmd, args, env = {}, input = undefined) =>
  spawnSync(cmd, args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: LONG,
    maxBuffer: 64 << 20,
    input,
  });
const out = (r) => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, fn, ms) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = fn();
    if (last.ok) return last;
    await sleep(3000);
  }
  assert.fail(`${what} within ${ms / 1000} s; last: ${last.detail}`);
}

test(
  'the offline kind node image builds and a kind cluster on it runs pods',
  { ...rootOnly('dockerd, mmdebstrap, kind'), timeout: LONG },
  async (t) => {
    const started = run('bash', [DOCKER_HERE, 'status']).status !== 0;
    if (started) {
      const start = run('bash', [DOCKER_HERE, 'start']);
      assert.equal(start.status, 0, `docker-here start: ${start.stderr}`);
    }
    const env = {
      DOCKER_HOST: /DOCKER_HOST=(\S+)/.exec(run('bash', [DOCKER_HERE, 'env']).stdout)[1],
      KIND_EXPERIMENTAL_DOCKER_NETWORK: NETWORK,
    };
    // kind mounts the host's /lib/modules into its nodes; Docker creates it when absent.
    const hadModules = existsSync('/lib/modules');
    const kubeconfigDir = mkdtempSync(join(tmpdir(), 'trellis-kind-'));
    t.after(() => {
      run(kind, ['delete', 'cluster', '--name', CLUSTER], env);
      run('docker', ['network', 'rm', NETWORK], env);
      rmSync(kubeconfigDir, { recursive: true, force: true });
      if (!hadModules && existsSync('/lib/modules') && readdirSync('/lib/modules').length === 0) {
        rmdirSync('/lib/modules');
      }
      if (started) run('bash', [DOCKER_HERE, 'stop']);
    });
    let kind = 'kind';

    const build = run('bash', [BUILD], env);
    assert.equal(build.status, 0, `build.sh: ${out(build)}`);
    const image = build.stdout.trim().split('\n').pop();
    assert.match(image, /^trellis\/kind-node:v1\.\d+\.\d+$/);
    kind = join(run('bash', [GO_TOOL, path('../kind'), '--print-bin-dir']).stdout.trim(), 'kind');

    const create = run(
      kind,
      [
        'create',
        'cluster',
        '--name',
        CLUSTER,
        '--image',
        image,
        '--kubeconfig',
        join(kubeconfigDir, 'config'),
        '--wait',
        '5m',
      ],
      env,
    );
    assert.equal(create.status, 0, `kind create cluster: ${out(create)}`);

    // kubectl in the control-plane node: the API server's published port is not needed.
    const node = `${CLUSTER}-control-plane`;
    const kubectl = (...args) =>
      run(
        'docker',
        ['exec', '-i', node, 'kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', ...args],
        env,
      );
    await until(
      'the node Ready',
      () => {
        const r = kubectl(
          'get',
          'node',
          node,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        );
        return { ok: r.stdout === 'True', detail: out(r) };
      },
      5 * 60_000,
    );
    await until(
      'CoreDNS Running',
      () => {
        const r = kubectl(
          'get',
          'pods',
          '-n',
          'kube-system',
          '-l',
          'k8s-app=kube-dns',
          '-o',
          'jsonpath={.items[*].status.phase}',
        );
        return { ok: /^Running( Running)*$/.test(r.stdout), detail: out(r) };
      },
      5 * 60_000,
    );
    const pod = kubectl(
      'run',
      'probe',
      '--image=registry.k8s.io/pause:3.10.1',
      '--image-pull-policy=Never',
      '--restart=Never',
    );
    assert.equal(pod.status, 0, `kubectl run: ${out(pod)}`);
    await until(
      'a pod Running with an address from the node pod CIDR',
      () => {
        const r = kubectl('get', 'pod', 'probe', '-o', 'jsonpath={.status.phase} {.status.podIP}');
        return { ok: /^Running 10\.244\.\d+\.\d+$/.test(r.stdout), detail: out(r) };
      },
      3 * 60_000,
    );

    const del = run(kind, ['delete', 'cluster', '--name', CLUSTER], env);
    assert.equal(del.status, 0, `kind delete cluster: ${out(del)}`);
    const left = run(
      'docker',
      ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`, '-q'],
      env,
    );
    assert.equal(left.stdout.trim(), '', 'the node containers are gone');
  },
);
