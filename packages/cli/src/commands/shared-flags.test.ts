// --set is read the same way by install and manifest generate: a bad one is a usage error
// (exit 2) naming the argument, before any cluster is contacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(
  fileURLToPath(new URL('../../../../', import.meta.url)),
  'packages/cli/dist/main.js',
);

test('a bad --set is a usage error of install and manifest generate, before any cluster', () => {
  for (const command of [['install'], ['manifest', 'generate']])
    for (const [arg, message] of [
      ['foo', /--set foo: expected KEY=VALUE/],
      ['nope=1', /--set nope=1: unknown key "nope"; known keys: /],
      [
        'controlPlane.replicas=many',
        /--set controlPlane\.replicas=many: controlPlane\.replicas must be/,
      ],
    ] as const) {
      const r = spawnSync(process.execPath, [CLI, ...command, '--set', arg], {
        encoding: 'utf8',
        env: { ...process.env, KUBECONFIG: '/nonexistent/kubeconfig' },
      });
      assert.equal(r.status, 2, `${command.join(' ')} --set ${arg}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /kubeconfig/);
    }
});
