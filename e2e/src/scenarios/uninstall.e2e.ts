// Uninstall: `trellis uninstall --purge` leaves no mesh object, CNI config, in-pod rule or pod
// annotation behind, and a reinstall works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { layoutOf, podNetnsName } from '@trellis/local-cluster';
import { suite } from '../harness/suite.js';

const s = suite();
// With the CNI agent installed (profile default), uninstall runs the agent's uninstall mode on
// every node first, so it needs an agent that works.
const uninstallNeeds = s.profile === 'default' ? s.needs('cni') : {};
let uninstalled: { status: number | null; stderr: string } | undefined;

test('trellis uninstall --purge succeeds', uninstallNeeds, async () => {
  uninstalled = await s.trellis('uninstall', '--purge');
  assert.equal(uninstalled.status, 0, uninstalled.stderr);
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
  if (!s.cluster) return; // node files and pod netns are reachable on local clusters only
  for (const node of layoutOf(s.cluster).nodes) {
    const dir = join(node.dir, 'root/etc/cni/net.d');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.conflist'))) {
      const plugins = JSON.parse(readFileSync(join(dir, f), 'utf8')).plugins.map(
        (p: { type: string }) => p.type,
      );
      assert.ok(!plugins.includes('trellis-cni'), `${node.name}/${f}: ${plugins.join(', ')}`);
    }
  }
  for (const p of s.kubectl.getJson('pods', '-n', 'e2e-mesh').items) {
    const rules = execFileSync(
      'ip',
      ['netns', 'exec', podNetnsName(s.cluster, p.metadata.uid), 'iptables-save'],
      { encoding: 'utf8' },
    );
    assert.doesNotMatch(
      rules,
      /--to-ports 1500[168]|0x539|0x111/,
      `rules left in ${p.metadata.name}'s netns`,
    );
  }
});

test('Trellis installs again', uninstallNeeds, async () => {
  // The profile the runner installed, once its node components can become Ready; minimal until then.
  const profile = s.needs('cni', 'ztunnel').skip ? 'minimal' : s.profile;
  const r = await s.trellis('install', '--profile', profile, '--timeout', '3m');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /is installed in trellis-system and Ready/);
});
