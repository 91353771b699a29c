// End to end on this host, as root, with the binaries from tools/kube/build.sh: a 2-node cluster
// runs a Deployment, pods reach each other across nodes and through a ClusterIP, a deleted pod is
// replaced, and `delete` leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { eventually, rootOnly } from '@trellis/core/test-support';
import { createCluster, deleteCluster, clusterRssBytes, layoutOf } from './cluster.js';
import { clustersDir, kubeBinDir, requireKubeBinaries, PACKAGE_ROOT } from './paths.js';
import { pendingFileOf, recordFileOf } from './host-mountpoints.js';
import { podNetnsName } from './layout.pure.js';
import type { Pod } from './pod-spec.js';

// Unique per test process, so concurrent runs on one host do not collide.
const NAME = `lct${process.pid}`;

/** The fields of a Node this test reads. */
interface NodeReadiness {
  metadata: { name: string };
  status: { conditions: Array<{ type: string; status: string }> };
}

test(
  'a 2-node local cluster runs a Deployment with cross-node pod and ClusterIP traffic, and deletes cleanly',
  { ...rootOnly('netns, bridges, mounts'), timeout: 15 * 60_000 },
  async (t) => {
    const binDir = requireKubeBinaries(kubeBinDir());
    const hadSecretsDir = existsSync('/var/run/secrets');
    let hostVeths: string[];
    const started = Date.now();
    const c = await createCluster({ name: NAME, nodes: 2 });
    t.diagnostic(`created in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    const kubectl = (...args: string[]) =>
      execFileSync(`${binDir}/kubectl`, [`--kubeconfig=${c.kubeconfig}`, ...args], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    const inPod = (uid: string, ...cmd: string[]) =>
      execFileSync('ip', ['netns', 'exec', podNetnsName(NAME, uid), ...cmd], { encoding: 'utf8' });
    try {
      const nodes = JSON.parse(kubectl('get', 'nodes', '-o', 'json')).items as NodeReadiness[];
      assert.equal(nodes.length, 2);
      for (const n of nodes)
        assert.equal(
          n.status.conditions.find((x) => x.type === 'Ready')?.status,
          'True',
          `node ${n.metadata.name} Ready`,
        );

      kubectl('apply', '-f', `${PACKAGE_ROOT}/testdata/echo.yaml`);
      kubectl('rollout', 'status', 'deployment/echo', '--timeout=180s');
      let pods = await readyPods(kubectl, 3);
      assert.equal(
        new Set(pods.map((p) => p.spec.nodeName)).size,
        2,
        'the 3 replicas spread over both nodes',
      );
      t.diagnostic(
        `cluster RSS with 3 echo pods: ${((await clusterRssBytes(NAME)) / 2 ** 20).toFixed(0)} MiB`,
      );

      const a = pods[0]!;
      const b = pods.find((p) => p.spec.nodeName !== a.spec.nodeName)!;
      const direct = JSON.parse(
        inPod(
          a.metadata.uid,
          'curl',
          '-sS',
          '--max-time',
          '10',
          `http://${b.status?.podIP}:8080/hello`,
        ),
      );
      assert.equal(direct.pod, b.metadata.name, 'pod-to-pod across nodes reaches the other pod');
      assert.equal(direct.node, b.spec.nodeName);
      assert.equal(direct.remoteIP, a.status?.podIP, 'the source pod IP is preserved across nodes');

      const svc = JSON.parse(kubectl('get', 'service', 'echo', '-o', 'json'));
      // kube-proxy programs the Service a moment after its endpoints become ready: retry until it has.
      const viaService = JSON.parse(
        await eventually(
          'the ClusterIP to answer',
          () =>
            inPod(
              a.metadata.uid,
              'curl',
              '-sS',
              '--max-time',
              '10',
              `http://${svc.spec.clusterIP}/`,
            ),
          { timeoutMs: 120_000, intervalMs: 500 },
        ),
      );
      assert.ok(
        pods.some((p) => p.metadata.name === viaService.pod),
        `ClusterIP answered by an echo pod (got ${viaService.pod})`,
      );

      // The projected service-account token is a real bound token for this pod.
      const pid = Number(
        a.status?.containerStatuses?.[0]?.containerID?.replace('trellis://', '') ?? NaN,
      );
      const token = execFileSync(
        'nsenter',
        [
          '-t',
          String(pid),
          '--mount',
          '--',
          'cat',
          '/var/run/secrets/kubernetes.io/serviceaccount/token',
        ],
        { encoding: 'utf8' },
      );
      const tr = JSON.parse(
        execFileSync(
          `${binDir}/kubectl`,
          [`--kubeconfig=${c.kubeconfig}`, 'create', '-o', 'json', '-f', '-'],
          {
            encoding: 'utf8',
            input: JSON.stringify({
              apiVersion: 'authentication.k8s.io/v1',
              kind: 'TokenReview',
              spec: { token },
            }),
          },
        ),
      );
      assert.equal(tr.status.authenticated, true);
      assert.equal(tr.status.user.username, 'system:serviceaccount:default:default');
      assert.deepEqual(tr.status.user.extra['authentication.kubernetes.io/pod-name'], [
        a.metadata.name,
      ]);

      kubectl('delete', 'pod', a.metadata.name, '--wait=true', '--timeout=60s');
      pods = await readyPods(kubectl, 3);
      assert.ok(!pods.some((p) => p.metadata.name === a.metadata.name), 'the deleted pod is gone');
      assert.ok(
        !existsSync(`/run/netns/${podNetnsName(NAME, a.metadata.uid)}`),
        'the deleted pod netns is gone',
      );
    } finally {
      hostVeths = layoutOf(NAME).nodes.map((n) => n.hostVeth);
      await deleteCluster(NAME);
    }
    const links = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' });
    assert.deepEqual(
      hostVeths.filter((v) => links.includes(v)),
      [],
      'no node veth left on the host',
    );

    const leftoverNetns = readdirSync('/run/netns').filter((n) => n.startsWith(`trellis.${NAME}.`));
    assert.deepEqual(leftoverNetns, [], 'no network namespaces left');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(`trellis.${NAME}.`) || l.includes(c.stateDir));
    assert.deepEqual(mounts, [], 'no mounts left');
    const procs = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(c.stateDir);
        } catch {
          return false;
        }
      });
    assert.deepEqual(procs, [], 'no processes left');
    assert.equal(existsSync(c.stateDir), false, 'state directory removed');
    assert.equal(
      execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' }).includes(`tl-${NAME}`),
      false,
      'bridge removed',
    );
    // Another cluster alive on the host (tests run side by side) may have made it too, or still have
    // it mounted: then it is in that cluster's record or waits in the host-wide pending list for the
    // last delete (host-mountpoints.test.ts).
    if (!hadSecretsDir && existsSync('/var/run/secrets')) {
      const dir = clustersDir();
      const lists = [
        pendingFileOf(dir),
        ...readdirSync(dir).map((n) => recordFileOf(`${dir}/${n}`)),
      ];
      assert.ok(
        lists.some(
          (f) => existsSync(f) && readFileSync(f, 'utf8').split('\n').includes('/var/run/secrets'),
        ),
        'mount points created on the host are removed, or left to the last cluster using them',
      );
    }
  },
);

function readyPods(kubectl: (...a: string[]) => string, want: number): Promise<Pod[]> {
  return eventually(
    `${want} ready echo pods`,
    () => {
      const pods = (
        JSON.parse(kubectl('get', 'pods', '-l', 'app=echo', '-o', 'json')).items as Pod[]
      ).filter(
        (p) =>
          !p.metadata.deletionTimestamp &&
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return pods.length === want ? pods : undefined;
    },
    { timeoutMs: 5 * 60_000, intervalMs: 500 },
  );
}
