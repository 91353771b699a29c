// Uninstall: `trellis uninstall --purge` leaves no mesh object, CNI config, in-pod rule or pod
// annotation behind, and a reinstall works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runnerInstallArgs } from '../harness/install.js';
import { nodeCniConfigs, nodesReachable, podIptablesSave } from '../harness/nodes.js';
import { suite } from '../harness/suite.js';

const s = suite();
// With the CNI agent installed (profile default), uninstall runs the agent's uninstall mode on
// every node first, so it needs an agent that works.
const uninstallNeeds = s.profile === 'default' ? s.needs('cni') : {};
let uninstalled: { status: number | null; stdout: string; stderr: string } | undefined;

test('trellis uninstall --purge succeeds', uninstallNeeds, async (t) => {
  uninstalled = await s.trellis('uninstall', '--purge');
  assert.equal(uninstalled.status, 0, uninstalled.stderr);
  // Where the time went (the waits for pods and the namespace to go): a slow uninstall says why.
  for (const line of `${uninstalled.stdout}\n${uninstalled.stderr}`.split('\n'))
    if (/ gone after /.test(line)) t.diagnostic(line.trim());
});

test(
  'no mesh object is left: Trellis objects, CRDs, root certificates, namespace',
  uninstallNeeds,
  () => {
    assert.ok(uninstalled, 'uninstall ran');
    const kinds =
      'serviceaccounts,services,configmaps,deployments,daemonsets,roles,rolebindings,clusterroles,clusterrolebindings,crds,namespaces';
    assert.deepEqual(
      s.kubectl.getJson(kinds, '-A', '-l', 'app.kubernetes.io/part-of=trellis').items,
      [],
    );
    const crds = s.kubectl
      .getJson('crds')
      .items.map((c: { metadata: { name: string } }) => c.metadata.name);
    assert.deepEqual(
      crds.filter(
        (n: string) => n.endsWith('.istio.io') || /\.gateway\.networking\.(x-)?k8s\.io$/.test(n),
      ),
      [],
    );
    assert.deepEqual(
      s.kubectl.getJson('configmaps', '-A', '--field-selector', 'metadata.name=istio-ca-root-cert')
        .items,
      [],
    );
    assert.equal(s.kubectl.tryGet('namespace', 'trellis-system'), undefined);
  },
);

test('no CNI config entry, in-pod rule or redirection annotation is left', s.needs('cni'), () => {
  for (const ns of ['e2e-mesh', 'e2e-plain'])
    for (const p of s.kubectl.getJson('pods', '-n', ns).items)
      assert.equal(
        p.metadata.annotations?.['ambient.istio.io/redirection'],
        undefined,
        `${ns}/${p.metadata.name}`,
      );
  if (!nodesReachable(s.ref)) return; // node files and pod netns: created clusters only
  for (const c of nodeCniConfigs(s.ref))
    assert.ok(!c.plugins.includes('trellis-cni'), `${c.node}/${c.file}: ${c.plugins.join(', ')}`);
  for (const p of s.kubectl.getJson('pods', '-n', 'e2e-mesh').items) {
    const rules = podIptablesSave(s.ref, p.metadata.uid, p.spec.nodeName);
    assert.doesNotMatch(
      rules,
      /--to-ports 1500[168]|0x539|0x111/,
      `rules left in ${p.metadata.name}'s netns`,
    );
  }
});

test('Trellis installs again', uninstallNeeds, async (t) => {
  // As the runner installed (its profile, once its node components can become Ready; minimal until
  // then), so that the scenarios can run again on a kept cluster.
  const profile = s.needs('cni', 'ztunnel').skip ? 'minimal' : s.profile;
  const r = await s.trellis(
    'install',
    '--profile',
    profile,
    '--timeout',
    '3m',
    ...runnerInstallArgs(s.ref.provider),
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /is installed in trellis-system and Ready/);
  // Where the time went: each rollout's progress with its seconds, and what held a slow one up.
  const wait = r.stderr.slice(r.stderr.indexOf('Waiting for'));
  for (const line of wait.split('\n').slice(1)) if (line.trim()) t.diagnostic(line.trimEnd());
});
