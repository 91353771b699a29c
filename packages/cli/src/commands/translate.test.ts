// `trellis x translate` runs the control plane's own pipeline: for the control plane's golden
// cases it prints exactly the resources the control plane's golden files hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { redactPrivateKeys } from '../mesh/redact.pure.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = join(REPO, 'packages/cli/dist/main.js');
const CASES = join(REPO, 'packages/control-plane/testdata');
const ENVOY_CASES = join(CASES, 'envoy');
const trellis = (args: string[], input?: string) =>
  spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  });

const golden = (file: string) => parse(readFileSync(file, 'utf8')) ?? {};

/** The case's `# mesh-options: {json}` as flags; the control plane's defaults otherwise. */
function meshFlags(file: string): string[] {
  const header = /^# mesh-options: (.*)$/m.exec(readFileSync(file, 'utf8'));
  const o = { rootNamespace: 'istio-system', ...(header ? JSON.parse(header[1]!) : {}) };
  return [
    '--root-namespace',
    o.rootNamespace,
    ...(o.trustDomain ? ['--trust-domain', o.trustDomain] : []),
  ];
}

test('WDS: addresses and authorizations equal the control plane golden files, case by case', () => {
  const cases = readdirSync(CASES)
    .filter((f) => f.endsWith('.in.yaml'))
    .map((f) => f.slice(0, -'.in.yaml'.length));
  assert.ok(cases.length >= 10, `found ${cases.length} cases`);
  for (const name of cases) {
    const file = join(CASES, `${name}.in.yaml`);
    const r = trellis([
      'x',
      'translate',
      '-f',
      file,
      '--type',
      'wds',
      '-o',
      'json',
      ...meshFlags(file),
    ]);
    assert.ok(r.status === 0 || r.status === 3, `${name}: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      out.wds.addresses,
      golden(join(CASES, `${name}.addresses.golden.yaml`)),
      `${name} addresses`,
    );
    assert.deepEqual(
      out.wds.authorizations,
      golden(join(CASES, `${name}.authorizations.golden.yaml`)),
      `${name} authorizations`,
    );
  }
});

test('waypoint and proxyless Envoy resources equal the control plane golden files', () => {
  const cases = readdirSync(ENVOY_CASES).filter((f) => f.endsWith('.in.yaml'));
  let compared = 0;
  for (const file of cases) {
    const text = readFileSync(join(ENVOY_CASES, file), 'utf8');
    const proxy = /^# proxy: (proxyless|waypoint (\S+))$/m.exec(text);
    assert.ok(proxy, `${file} names its proxy`);
    const name = file.slice(0, -'.in.yaml'.length);
    const type = proxy[2] ? 'waypoint' : 'proxyless';
    const r = trellis(
      [
        'x',
        'translate',
        '-f',
        '-',
        '--type',
        type,
        '-o',
        'yaml',
        ...meshFlags(join(ENVOY_CASES, file)),
      ],
      text,
    );
    assert.ok(r.status === 0 || r.status === 3, `${name}: ${r.stderr}`);
    const out = proxy[2] ? parse(r.stdout).waypoints[proxy[2]] : parse(r.stdout).proxyless;
    for (const kind of ['listeners', 'routes', 'clusters', 'endpoints'])
      assert.deepEqual(
        out[kind],
        golden(join(ENVOY_CASES, `${name}.${kind}.golden.yaml`)),
        `${name} ${kind}`,
      );
    compared++;
  }
  assert.ok(compared >= 5, `compared ${compared} cases`);
});

test('bad input: a missing file, no -f, an invalid document (skipped and named, exit 3)', () => {
  const missing = trellis(['x', 'translate', '-f', '/nonexistent.yaml']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /-f \/nonexistent.yaml: no such file/);
  const none = trellis(['x', 'translate']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /give the manifests with -f FILE/);
  const bad = trellis(
    ['x', 'translate', '-f', '-', '--type', 'wds'],
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: 3\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n',
  );
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /skipped: <stdin>: document 1: /);
});

test('ingress gateways: the Envoy resources equal the control plane gateway golden files; Secrets by name only', () => {
  const dir = join(CASES, 'gateway');
  const cases = readdirSync(dir)
    .filter((f) => f.endsWith('.in.yaml'))
    .map((f) => f.slice(0, -'.in.yaml'.length));
  assert.ok(cases.length >= 2, `found ${cases.length} cases`);
  for (const name of cases) {
    const r = trellis([
      'x',
      'translate',
      '-f',
      join(dir, `${name}.in.yaml`),
      '--type',
      'gateway',
      '-o',
      'json',
      '--root-namespace',
      'istio-system',
    ]);
    assert.ok(r.status === 0 || r.status === 3, `${name}: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    const expected = golden(join(dir, `${name}.golden.yaml`)).xds;
    for (const [key, set] of Object.entries(expected) as [string, Record<string, unknown>][]) {
      for (const kind of ['listeners', 'routes', 'clusters', 'endpoints', 'secrets'])
        assert.deepEqual(
          out.gateways[key][kind],
          // The golden files hold what the proxies get; the CLI prints private keys redacted.
          kind === 'clusters' ? redactPrivateKeys(set[kind]) : set[kind],
          `${name} ${key} ${kind}`,
        );
    }
    assert.doesNotMatch(r.stdout, /PRIVATE KEY|inlineBytes/, 'no key material is printed');
  }
});
