// deploy/ as the CLI reads it is what the real kustomize (built into the upstream kubectl) builds,
// for the default kustomization and the minimal profile; and the CRDs are what the generator writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeBinDir, requireKubeBinaries } from '@trellis/local-cluster';
import { loadKustomization } from './kustomize.js';
import { parseKustomization, parseYamlDocs } from './kustomize.pure.js';
import { DEPLOY_DIR } from './bundle.js';
import { renderManifests } from './render.pure.js';
import { CLI_VERSION } from './bundle.js';
import type { KubeObject } from '../kube/objects.pure.js';
import { COMPONENT_NODE_OPTIONS } from '@trellis/control-plane/model';

type KubeContainer = { name: string; env?: { name: string; value?: string }[] };

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const CRD_FILE = 'standard-install-v1.6.1.yaml';
const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
type CrdShape = {
  spec: {
    versions: {
      schema: {
        openAPIV3Schema: {
          properties: { spec: { properties: { description: { maxLength: number } } } };
        };
      };
    }[];
  };
};
const sorted = (objs: KubeObject[]) => [...objs].sort((a, b) => key(a).localeCompare(key(b)));

function kustomize(dir: string): KubeObject[] {
  const kubectl = join(requireKubeBinaries(kubeBinDir()), 'kubectl');
  return parseYamlDocs(
    execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 }),
    dir,
  );
}

test('the CLI builds deploy/ and deploy/profiles/minimal exactly as kubectl kustomize does', () => {
  for (const dir of ['', 'profiles/minimal']) {
    const ours = loadKustomization(join(DEPLOY_DIR, dir));
    assert.deepEqual(sorted(ours), sorted(kustomize(join(REPO, 'deploy', dir))), `deploy/${dir}`);
  }
});

test('the minimal profile directory and --profile minimal install the same objects', () => {
  const fromCli = renderManifests(loadKustomization(DEPLOY_DIR), {
    profile: 'minimal',
    values: {},
    version: CLI_VERSION,
  })
    .filter((o) => o.metadata.name !== 'trellis-install')
    .map(key);
  assert.deepEqual(
    fromCli.sort(),
    loadKustomization(join(DEPLOY_DIR, 'profiles/minimal')).map(key).sort(),
  );
});

test('deploy/ names this version in every image', () => {
  for (const o of loadKustomization(DEPLOY_DIR))
    for (const c of o.spec?.template?.spec?.containers ?? [])
      assert.equal(c.image.split(':')[1], CLI_VERSION, key(o));
});

test('every Trellis container in deploy/ runs Node.js with the V8 options the waypoints get', () => {
  const containers: { o: KubeObject; c: KubeContainer }[] = loadKustomization(DEPLOY_DIR).flatMap(
    (o) => (o.spec?.template?.spec?.containers ?? []).map((c: KubeContainer) => ({ o, c })),
  );
  assert.equal(containers.length, 3, 'the control plane, ztunnel and the CNI agent');
  for (const { o, c } of containers) {
    const env = c.env?.find((e) => e.name === 'NODE_OPTIONS');
    assert.equal(env?.value, COMPONENT_NODE_OPTIONS, `${key(o)} container ${c.name}`);
  }
});

test('deploy/crds is what tools/crds/gen-crds.mjs writes', () => {
  execFileSync(process.execPath, [join(REPO, 'tools/crds/gen-crds.mjs'), '--check'], {
    stdio: 'pipe',
  });
});

test('kustomizations with more than resources and images are refused by name', () => {
  assert.throws(
    () => parseKustomization('resources: [a.yaml]\npatches:\n  - path: p.yaml\n', 'k.yaml'),
    /k.yaml: "patches" is not supported by trellis \(it reads apiVersion, kind, resources, images\)/,
  );
  const dir = mkdtempSync(join(tmpdir(), `trellis-kust-${process.pid}-`));
  try {
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [missing.yaml]\n');
    assert.throws(() => loadKustomization(dir), /resource missing.yaml does not exist/);
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [bad.yaml]\n');
    writeFileSync(join(dir, 'bad.yaml'), 'a: [1,\n');
    assert.throws(() => loadKustomization(dir), /bad.yaml: document 1: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("deploy/'s GatewayClasses fit the Gateway API schema's description limit (the API server refuses longer ones)", () => {
  const crds = parseYamlDocs(
    readFileSync(join(REPO, 'deploy/gateway-api', CRD_FILE), 'utf8'),
    CRD_FILE,
  );
  const crd = crds.find((o) => o.metadata.name === 'gatewayclasses.gateway.networking.k8s.io');
  assert.ok(crd, 'the GatewayClass CRD');
  const max = (crd as unknown as CrdShape).spec.versions[0]!.schema.openAPIV3Schema.properties.spec
    .properties.description.maxLength as number;
  assert.equal(typeof max, 'number');
  const classes = loadKustomization(DEPLOY_DIR).filter((o) => o.kind === 'GatewayClass');
  assert.ok(classes.length >= 4, 'waypoint and ingress classes');
  for (const c of classes) {
    const d = (c as unknown as { spec: { description?: string } }).spec.description;
    assert.ok(
      (d?.length ?? 0) <= max,
      `GatewayClass ${c.metadata.name}: description of ${d?.length} bytes > ${max}`,
    );
  }
});
