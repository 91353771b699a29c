// tools/kind-node on this host, as root, with the Docker engine of tools/docker-here.sh (started
// when not running, and then stopped again): build.sh gives trellis/kind-node:<k8s version>
// (cached across runs, skipped when present), and `trellis cluster create --provider kind`'s code
// (`kind create cluster --image` with it) brings up a two-node cluster whose nodes turn Ready and
// whose CoreDNS runs; a pod on the other node than a CoreDNS pod reaches it (pod to pod across
// nodes) and resolves the API server's service name; a LoadBalancer Service gets an address from
// the top of the kind network's subnet and answers from this host; and `cluster delete` removes it
// all again: containers, network, the load-balancer controller and its host routes. Not part of
// `npm test` (a cold build takes minutes): `npm run test:kind`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL } from 'node:url';
import { rootOnly } from '@trellis/core/test-support';
import { createKindCluster, deleteKindCluster } from '@trellis/cli';

const path = (p) => fileURLToPath(new URL(p, import.meta.url));
const DOCKER_HERE = path('../docker-here.sh');
const BUILD = path('./build.sh');
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
    // The CLI's kind code runs in this process: the same engine, network and a kubeconfig and
    // state directory of the test's own.
    Object.assign(process.env, env, {
      TRELLIS_KIND_KUBECONFIG_DIR: kubeconfigDir,
      TRELLIS_KIND_STATE_DIR: join(kubeconfigDir, 'state'),
    });
    t.after(async () => {
      await deleteKindCluster(CLUSTER).catch((e) => t.diagnostic(`cleanup: ${e.message}`));
      run('docker', ['network', 'rm', NETWORK], env);
      rmSync(kubeconfigDir, { recursive: true, force: true });
      if (!hadModules && existsSync('/lib/modules') && readdirSync('/lib/modules').length === 0) {
        rmdirSync('/lib/modules');
      }
      if (started) run('bash', [DOCKER_HERE, 'stop']);
    });

    const build = run('bash', [BUILD], env);
    assert.equal(build.status, 0, `build.sh: ${out(build)}`);
    const image = build.stdout.trim().split('\n').pop();
    assert.match(image, /^trellis\/kind-node:v1\.\d+\.\d+$/);
    const created = await createKindCluster({
      name: CLUSTER,
      nodes: 2,
      image,
      load: [],
      log: (l) => t.diagnostic(l),
    });

    // kubectl in the control-plane node: the API server's published port is not needed.
    const node = `${CLUSTER}-control-plane`;
    const kubectl = (...args) =>
      run(
        'docker',
        ['exec', '-i', node, 'kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', ...args],
        env,
      );
    const nodes = [node, `${CLUSTER}-worker`];
    await until(
      'both nodes Ready',
      () => {
        const r = kubectl(
          'get',
          'nodes',
          '-o',
          'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}',
        );
        return { ok: nodes.every((n) => r.stdout.includes(`${n}=True`)), detail: out(r) };
      },
      5 * 60_000,
    );
    const dns = await until(
      'CoreDNS Running and ready',
      () => {
        const r = kubectl(
          'get',
          'pods',
          '-n',
          'kube-system',
          '-l',
          'k8s-app=kube-dns',
          '-o',
          'jsonpath={range .items[*]}{.status.phase} {.status.podIP} {.spec.nodeName} {.status.containerStatuses[0].ready}{"\\n"}{end}',
        );
        const running = r.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(' '))
          .filter(([phase, , , ready]) => phase === 'Running' && ready === 'true');
        return {
          ok: running.length > 0,
          detail: out(r),
          ip: running[0]?.[1],
          node: running[0]?.[2],
        };
      },
      5 * 60_000,
    );
    // The probe runs on the other node; its image (the pod-routes one) has bash and getent.
    const other = nodes.find((n) => n !== dns.node);
    const probe = kubectl(
      'run',
      'probe',
      `--image=docker.io/trellis/kind-pod-routes:${image.split(':')[1]}`,
      '--image-pull-policy=Never',
      '--restart=Never',
      `--overrides={"spec":{"nodeName":"${other}"}}`,
      '--command',
      '--',
      'sleep',
      '3600',
    );
    assert.equal(probe.status, 0, `kubectl run: ${out(probe)}`);
    await until(
      'the probe pod Running with an address from its node pod CIDR',
      () => {
        const r = kubectl('get', 'pod', 'probe', '-o', 'jsonpath={.status.phase} {.status.podIP}');
        return { ok: /^Running 10\.244\.\d+\.\d+$/.test(r.stdout), detail: out(r) };
      },
      3 * 60_000,
    );
    await until(
      `the probe on ${other} reaching CoreDNS at ${dns.ip} on ${dns.node} and resolving the API service`,
      () => {
        const r = kubectl(
          'exec',
          'probe',
          '--',
          'bash',
          '-c',
          `timeout 5 bash -c 'echo >/dev/tcp/${dns.ip}/8080' && timeout 10 getent hosts kubernetes.default.svc.cluster.local`,
        );
        return { ok: r.status === 0 && /^10\.96\.0\.1\s/.test(r.stdout), detail: out(r) };
      },
      2 * 60_000,
    );

    // A LoadBalancer Service in front of CoreDNS's health endpoint (HTTP on 8080): an address from
    // the top of the kind network's subnet, routed on this host to the nodes, answering curl.
    const subnet = JSON.parse(run('docker', ['network', 'inspect', NETWORK], env).stdout)[0]
      .IPAM.Config.map((c) => c.Subnet)
      .find((c) => c.includes('.'));
    // The top of the subnet: a quarter of it, at most a /24 (Docker gives containers the lowest
    // free addresses), its first address the first one given out.
    const toInt = (ip) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    const toIp = (n) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    const [net, len] = subnet.split('/');
    const end = toInt(net) + 2 ** (32 - Number(len));
    const block = Math.max(Number(len) + 2, 24);
    const first = end - 2 ** (32 - block);
    assert.equal(created.lbRange, `${toIp(first)}/${block}`, `the top of ${subnet}`);
    const apply = run(
      'docker',
      [
        'exec',
        '-i',
        node,
        'kubectl',
        '--kubeconfig=/etc/kubernetes/admin.conf',
        'apply',
        '-f',
        '-',
      ],
      env,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'dns-health', namespace: 'kube-system' },
        spec: {
          type: 'LoadBalancer',
          selector: { 'k8s-app': 'kube-dns' },
          ports: [{ name: 'health', port: 80, targetPort: 8080 }],
        },
      }),
    );
    assert.equal(apply.status, 0, `kubectl apply: ${out(apply)}`);
    const lb = await until(
      'an address for the LoadBalancer Service',
      () => {
        const r = kubectl(
          'get',
          'service',
          '-n',
          'kube-system',
          'dns-health',
          '-o',
          'jsonpath={.status.loadBalancer.ingress[0].ip}',
        );
        return { ok: /^\d+\.\d+\.\d+\.\d+$/.test(r.stdout), detail: out(r), ip: r.stdout };
      },
      60_000,
    );
    assert.equal(lb.ip, toIp(first + 1), 'the first address of the range');
    const nodeIPs = run(
      'docker',
      ['network', 'inspect', NETWORK, '--format', '{{range .Containers}}{{.IPv4Address}} {{end}}'],
      env,
    ).stdout;
    assert.ok(!nodeIPs.includes(`${lb.ip}/`), `${lb.ip} is no node's (${nodeIPs})`);
    await until(
      `an answer from http://${lb.ip}/health on this host`,
      () => {
        const r = run('curl', ['-sS', '--max-time', '5', `http://${lb.ip}/health`]);
        return { ok: r.status === 0 && r.stdout === 'OK', detail: out(r) };
      },
      60_000,
    );
    const route = () => run('ip', ['-4', 'route', 'show', `${lb.ip}/32`]).stdout.trim();
    assert.match(route(), /nexthop via .* dev br-/, 'routed over the bridge to both nodes');

    await deleteKindCluster(CLUSTER);
    const left = run(
      'docker',
      ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`, '-q'],
      env,
    );
    assert.equal(left.stdout.trim(), '', 'the node containers are gone');
    assert.equal(route(), '', 'no route left for the load-balancer address');
    assert.equal(
      existsSync(join(kubeconfigDir, 'state', CLUSTER)),
      false,
      "the controller's state is gone",
    );
    const ctl = run('pgrep', ['-f', `lb-controller/main.js ${join(kubeconfigDir, 'state')}`]);
    assert.equal(ctl.stdout.trim(), '', 'the load-balancer controller has stopped');
  },
);
