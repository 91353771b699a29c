// Install: the manifests pass the API server's dry run, and every component the CLI installed
// becomes Ready and connected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { nodeCniConfigs, nodesReachable } from '../harness/nodes.js';
import { REPO, suite } from '../harness/suite.js';

const s = suite();
/** Tests of the node components: not applicable to profile minimal, else waiting for `caps`. */
const nodeComponents = (...caps: Parameters<typeof s.needs>) =>
  s.profile === 'minimal'
    ? { skip: 'profile minimal installs no node components' }
    : s.needs(...caps);

test('every manifest passes server-side dry run: trellis install --dry-run', async () => {
  const r = await s.trellis('install', '--dry-run', '--profile', s.profile);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /Dry run: the API server accepted (\d+) of \1 objects; nothing was changed/,
  );
});

test('every manifest passes server-side dry run: kubectl apply --server-side --dry-run=server -k deploy/', () => {
  for (const dir of ['deploy', 'deploy/profiles/minimal']) {
    const out = s.kubectl.run([
      'apply',
      '--server-side',
      '--force-conflicts',
      '--dry-run=server',
      '-k',
      join(REPO, dir),
    ]);
    assert.match(
      out,
      /deployment.apps\/trellis-control-plane serverside-applied \(server dry run\)/,
      dir,
    );
    assert.match(
      out,
      /customresourcedefinition.apiextensions.k8s.io\/authorizationpolicies.security.istio.io serverside-applied \(server dry run\)/,
      dir,
    );
  }
});

test('the control plane is Ready and serves its debug endpoints', () => {
  const d = s.kubectl.getJson('deployment', '-n', 'trellis-system', 'trellis-control-plane');
  assert.equal(d.status.readyReplicas, d.spec.replicas);
  const pod = s.kubectl.getJson('pods', '-n', 'trellis-system', '-l', 'app=trellis-control-plane')
    .items[0].metadata.name;
  assert.equal(
    s.kubectl.run([
      'get',
      '--raw',
      `/api/v1/namespaces/trellis-system/pods/${pod}:15014/proxy/ready`,
    ]),
    'ready\n',
  );
  const root = s.kubectl.getJson('configmap', '-n', 'e2e-mesh', 'istio-ca-root-cert');
  assert.match(
    root.data['root-cert.pem'],
    /^-----BEGIN CERTIFICATE-----/,
    'the CA published its root in every namespace',
  );
});

test(
  'trellis install returned once every component was Ready',
  nodeComponents('ztunnel', 'cni'),
  () => {
    assert.equal(s.installExit, 0);
  },
);

test(
  'ztunnel is Ready on every node and has ACKed its configuration',
  nodeComponents('ztunnel'),
  async () => {
    const nodes = s.kubectl.getJson('nodes').items.length;
    const ds = s.kubectl.getJson('daemonset', '-n', 'trellis-system', 'ztunnel');
    assert.equal(ds.status.numberReady, nodes);
    const r = await s.trellis('proxy-status', '-o', 'json');
    assert.equal(r.status, 0, r.stderr);
    const ztunnels = JSON.parse(r.stdout).filter((p: { proxy: string }) =>
      p.proxy.startsWith('ztunnel~'),
    );
    assert.equal(ztunnels.length, nodes, r.stdout);
    for (const z of ztunnels) {
      assert.equal(z.types.address, 'SYNCED', z.proxy);
      assert.equal(z.types.authorization, 'SYNCED', z.proxy);
    }
  },
);

test(
  'the CNI agent is Ready on every node and chained into its CNI config',
  nodeComponents('cni'),
  () => {
    const nodes = s.kubectl.getJson('nodes').items.length;
    assert.equal(
      s.kubectl.getJson('daemonset', '-n', 'trellis-system', 'trellis-cni-node').status.numberReady,
      nodes,
    );
    if (!nodesReachable(s.ref)) return; // node files are readable on created clusters only
    const configs = nodeCniConfigs(s.ref);
    for (const node of s.kubectl
      .getJson('nodes')
      .items.map((n: { metadata: { name: string } }) => n.metadata.name)) {
      // The container runtime uses the first config file by name.
      const first = configs.find((c) => c.node === node);
      assert.ok(first, `${node} has a CNI config`);
      assert.ok(
        first.plugins.includes('trellis-cni'),
        `${node}/${first.file}: ${first.plugins.join(', ')}`,
      );
    }
  },
);

test(
  'trellis status reports every component installed and Ready',
  nodeComponents('ztunnel', 'cni'),
  async () => {
    const r = await s.trellis('status');
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  },
);

test(
  "trellis ztunnel-config workloads (ztunnel's admin port by WebSocket port-forward) lists the sample's pods as HBONE",
  nodeComponents('ztunnel', 'cni'),
  async () => {
    const r = await s.trellis('ztunnel-config', 'workloads', '-n', 'e2e-mesh', '-o', 'json');
    assert.equal(r.status, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as Array<{ name: string; protocol: string }>;
    const pods = s.kubectl.getJson('pods', '-n', 'e2e-mesh').items as Array<{
      metadata: { name: string };
    }>;
    assert.ok(pods.length > 0);
    for (const p of pods) {
      const w = listed.find((x) => x.name === p.metadata.name);
      assert.equal(w?.protocol, 'HBONE', `${p.metadata.name} in ${r.stdout}`);
    }
  },
);
