// Settings: the source is chosen from the flags or the environment, defaults depend on the mode,
// and every bad value or combination is refused naming the flag.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, helpText } from '@trellis/core';
import { controlPlaneSettings, loadControlPlaneConfig } from './config.js';

const problemsOf = (argv: string[], env: Record<string, string> = {}): string[] => {
  try {
    loadControlPlaneConfig({ argv, env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return [...err.problems];
  }
  assert.fail('expected the settings to be refused');
};

test('config-dir mode: local plaintext xDS, no secure port, debug on 15014', () => {
  const c = loadControlPlaneConfig({ argv: ['--config-dir', '/etc/mesh'], env: {} });
  assert.deepEqual(c.source, { kind: 'dir', dir: '/etc/mesh' });
  assert.deepEqual(c.xdsAddress, { host: '127.0.0.1', port: 15010 });
  assert.equal(c.secureXdsAddress, null);
  assert.deepEqual(c.debugAddress, { host: '', port: 15014 });
  assert.deepEqual(c.debounce, { quietMs: 100, maxDelayMs: 1000 });
  assert.deepEqual(c.mesh, {
    trustDomain: 'cluster.local',
    clusterId: 'Kubernetes',
    domainSuffix: 'cluster.local',
    rootNamespace: 'istio-system',
    network: '',
    hboneRequiresRedirection: false,
  });
});

test('config-dir mode with static tokens opens the secure port on :15012', () => {
  const c = loadControlPlaneConfig({
    argv: ['--config-dir=/d', '--static-tokens=/t.yaml', '--ca-dir=/ca'],
    env: {},
  });
  assert.deepEqual(c.secureXdsAddress, { host: '', port: 15012 });
  assert.equal(c.caDir, '/ca');
});

test('cluster mode from --kubeconfig or from KUBERNETES_SERVICE_HOST, with derived defaults', () => {
  const fromFile = loadControlPlaneConfig({
    argv: ['--kubeconfig=/k.yaml', '--system-namespace=trellis-system'],
    env: {},
  });
  assert.deepEqual(fromFile.source, { kind: 'kube', kubeconfig: '/k.yaml' });
  assert.deepEqual(fromFile.secureXdsAddress, { host: '', port: 15012 });
  assert.deepEqual(fromFile.trustedNodeProxies, [
    { namespace: 'trellis-system', serviceAccount: 'ztunnel' },
  ]);
  assert.equal(fromFile.waypoint.controlPlaneAddress, 'istiod.trellis-system.svc:15012');
  assert.equal(fromFile.waypoint.otlpEndpoint, undefined, 'no traces unless a collector is set');
  assert.equal(
    loadControlPlaneConfig({
      argv: ['--kubeconfig=/k'],
      env: { WAYPOINT_OTLP_ENDPOINT: 'http://otel-collector.observability:4317/' },
    }).waypoint.otlpEndpoint,
    'http://otel-collector.observability:4317',
  );
  assert.deepEqual(fromFile.caDnsNames, [
    'istiod.trellis-system.svc',
    'istiod.trellis-system.svc.cluster.local',
    'trellis-ca',
  ]);

  const inCluster = loadControlPlaneConfig({
    argv: [],
    env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', POD_NAMESPACE: 'mesh-system' },
  });
  assert.deepEqual(inCluster.source, { kind: 'kube', kubeconfig: undefined });
  assert.equal(inCluster.systemNamespace, 'mesh-system');
  assert.equal(
    inCluster.mesh.hboneRequiresRedirection,
    true,
    'pods are HBONE once the CNI redirected them',
  );
  const without = loadControlPlaneConfig({
    argv: ['--kubeconfig=/k', '--hbone-requires-redirection=false'],
    env: {},
  });
  assert.equal(without.mesh.hboneRequiresRedirection, false);
});

test('a KUBECONFIG variable does not conflict with --config-dir; the flag does', () => {
  assert.equal(
    loadControlPlaneConfig({ argv: ['--config-dir=/d'], env: { KUBECONFIG: '/k' } }).source.kind,
    'dir',
  );
  assert.deepEqual(problemsOf(['--config-dir=/d', '--kubeconfig=/k']), [
    '--config-dir and --kubeconfig: give one source, not both',
  ]);
});

test('refusals name the flag and say what is accepted', () => {
  const cases: [string[], RegExp][] = [
    [[], /no source: give --config-dir DIR/],
    [
      ['--config-dir=/d', '--xds-address=15010'],
      /^--xds-address: invalid value "15010".*host:port/,
    ],
    [['--config-dir=/d', '--debounce-quiet=soon'], /^--debounce-quiet: invalid value "soon"/],
    [
      ['--config-dir=/d', '--debounce-quiet=2s', '--debounce-max=1s'],
      /--debounce-max \(1000ms\) must not be shorter than --debounce-quiet \(2000ms\)/,
    ],
    [['--config-dir=/d', '--log-level=loud'], /^--log-level: invalid value "loud"/],
    [['--config-dir=/d', '--root-namespace=Not_A_Label'], /^--root-namespace: invalid value/],
    [['--config-dir=/d', '--cluster-id=a/b'], /^--cluster-id: invalid value "a\/b"/],
    [
      ['--config-dir=/d', '--trusted-node-proxies=ztunnel'],
      /^--trusted-node-proxies: invalid value "ztunnel"/,
    ],
    [['--config-dir=/d', '--ca-dir=/ca'], /needs --static-tokens/],
    [
      ['--config-dir=/d', '--waypoint-otlp-endpoint=otel:4317'],
      /^--waypoint-otlp-endpoint: invalid value "otel:4317".*http:\/\/host:port/,
    ],
    [['--config-dir=/d', '--no-such-flag=1'], /unknown flag --no-such-flag/],
  ];
  for (const [argv, expected] of cases) {
    const problems = problemsOf(argv);
    assert.ok(
      problems.some((p) => expected.test(p)),
      `${argv.join(' ')}: ${JSON.stringify(problems)} should match ${expected}`,
    );
  }
});

test('"off" disables a listener', () => {
  const c = loadControlPlaneConfig({
    argv: ['--config-dir=/d', '--xds-address=off', '--debug-address=off'],
    env: {},
  });
  assert.equal(c.xdsAddress, null);
  assert.equal(c.debugAddress, null);
});

test('--help documents every flag', () => {
  const help = helpText('trellis-control-plane', 'summary', controlPlaneSettings);
  for (const setting of Object.values(controlPlaneSettings))
    assert.ok(help.includes(setting.flag!), `--help mentions ${setting.flag}`);
  for (const flag of [
    '--config-dir',
    '--kubeconfig',
    '--secure-xds-address',
    '--ca-dir',
    '--static-tokens',
    '--trust-domain',
    '--cluster-id',
    '--root-namespace',
    '--system-namespace',
    '--debounce-quiet',
    '--debounce-max',
    '--log-level',
  ])
    assert.ok(help.includes(flag), flag);
});

test('config-dir size limits: defaults 16 MiB per file and 1.5 MiB per document, sizes with units', () => {
  const defaults = loadControlPlaneConfig({ argv: ['--config-dir=/d'], env: {} });
  assert.deepEqual(defaults.configLimits, {
    maxFileBytes: 16 * 1024 * 1024,
    maxDocumentBytes: 1.5 * 1024 * 1024,
  });
  const set = loadControlPlaneConfig({
    argv: ['--config-dir=/d', '--config-max-file-size=2Mi', '--config-max-document-size=512Ki'],
    env: {},
  });
  assert.deepEqual(set.configLimits, {
    maxFileBytes: 2 * 1024 * 1024,
    maxDocumentBytes: 512 * 1024,
  });
  assert.deepEqual(problemsOf(['--config-dir=/d', '--config-max-file-size=lots']), [
    '--config-max-file-size: invalid value "lots" (must be a size of at least 1Ki); expected a size in bytes, e.g. 1048576, 512Ki, 1.5Mi',
  ]);
  assert.deepEqual(
    problemsOf(['--config-dir=/d', '--config-max-file-size=1Mi', '--config-max-document-size=2Mi']),
    ['--config-max-document-size must not be larger than --config-max-file-size'],
  );
});
