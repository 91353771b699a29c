import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunnerArgs, providerInstallArgs } from './runner-args.pure.js';

test('defaults, and every flag', () => {
  const d = parseRunnerArgs([]);
  assert.deepEqual(
    [d.provider, d.nodes, d.profile, d.installTimeout, d.keep],
    ['local', 2, 'default', '150s', false],
  );
  const o = parseRunnerArgs([
    '--nodes',
    '3',
    '--keep',
    '--profile',
    'minimal',
    '--only',
    'inst|unin',
    '--install-timeout',
    '5m',
    '--run-skipped',
  ]);
  assert.deepEqual(
    [o.nodes, o.keep, o.profile, o.installTimeout, o.runSkipped],
    [3, true, 'minimal', '5m', true],
  );
  assert.ok(o.only!.test('uninstall') && !o.only!.test('mtls'));
});

test('bad flags say what is wrong', () => {
  assert.throws(
    () => parseRunnerArgs(['--nodes', '1']),
    /--nodes must be an integer from 2 to 10, got "1"/,
  );
  assert.throws(() => parseRunnerArgs(['--provider', 'gke']), /--provider must be local or kind/);
  assert.throws(() => parseRunnerArgs(['--only', '(']), /--only must be a regular expression/);
  assert.throws(
    () => parseRunnerArgs(['--install-timeout', 'soon']),
    /--install-timeout must be a duration/,
  );
  assert.throws(() => parseRunnerArgs(['--kubeconfig']), /--kubeconfig needs a value/);
  assert.throws(() => parseRunnerArgs(['--fast']), /unknown flag "--fast"/);
});

test('on kind, trellis install never pulls the images (they are loaded into the nodes)', () => {
  assert.equal(parseRunnerArgs(['--provider', 'kind']).provider, 'kind');
  assert.deepEqual(providerInstallArgs('kind'), ['--set', 'images.pullPolicy=Never']);
  assert.deepEqual(providerInstallArgs('local'), []);
});
