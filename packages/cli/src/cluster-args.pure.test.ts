import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClusterArgs } from './cluster-args.pure.js';

test('cluster create takes provider, name and node count, with defaults', () => {
  assert.deepEqual(parseClusterArgs(['create']), {
    verb: 'create',
    provider: 'local',
    name: 'trellis',
    nodes: 2,
  });
  assert.deepEqual(
    parseClusterArgs(['create', '--provider', 'local', '--name=dev', '--nodes', '3']),
    { verb: 'create', provider: 'local', name: 'dev', nodes: 3 },
  );
  assert.deepEqual(parseClusterArgs(['kubeconfig', '--name', 'dev', '--path']), {
    verb: 'kubeconfig',
    provider: 'local',
    name: 'dev',
    path: true,
  });
  assert.deepEqual(parseClusterArgs(['--help']), { verb: 'help' });
  assert.deepEqual(parseClusterArgs([]), { verb: 'help' });
});

test('bad verbs, flags and values say what is wrong', () => {
  assert.throws(() => parseClusterArgs(['start']), /unknown cluster command "start"/);
  assert.throws(
    () => parseClusterArgs(['create', '--nodes', 'two']),
    /--nodes must be an integer from 1 to 50, got "two"/,
  );
  assert.throws(() => parseClusterArgs(['create', '--nodes']), /flag --nodes needs a value/);
  assert.throws(() => parseClusterArgs(['create', '--provider', 'gke']), /unknown provider "gke"/);
  assert.throws(
    () => parseClusterArgs(['delete', '--nodes', '2']),
    /--nodes applies to cluster create only/,
  );
  assert.throws(() => parseClusterArgs(['list', '--force']), /unknown flag "--force"/);
});
