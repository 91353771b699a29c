// The installer on real directories: install copies the plugin, writes the kubeconfig and chains
// the entry last; a primary config rewritten behind its back gets the entry back; uninstall
// takes away exactly what install added (other plugins and files stay) and can run twice.
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@trellis/core';
import { pluginEntry } from './conflist.pure.js';
import { Installer } from './installer.js';

const TESTDATA = fileURLToPath(new URL('../../testdata/conflist/', import.meta.url));
const types = (path: string) =>
  (JSON.parse(readFileSync(path, 'utf8')) as { plugins: { type: string }[] }).plugins.map(
    (p) => p.type,
  );

test('install chains the plugin and keeps it chained; uninstall removes exactly what it added', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-installer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [bin, net, run] = ['bin', 'net.d', 'run'].map((d) => join(dir, d));
  for (const d of [bin, net, run]) mkdirSync(d);
  const plugin = join(dir, 'trellis-cni-build');
  writeFileSync(plugin, '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(bin, 'bridge'), 'other plugin');
  copyFileSync(join(TESTDATA, 'bridge.conflist'), join(net, '10-bridge.conflist'));
  const results: string[] = [];
  const installer = new Installer({
    pluginBinary: plugin,
    binDir: bin,
    netDir: net,
    confName: '',
    runDir: run,
    entry: pluginEntry({
      agentRunDir: '/var/run/istio-cni',
      excludeNamespaces: ['kube-system'],
      podNamespace: 'trellis-system',
      logLevel: 'info',
    }),
    kubeconfig: () => '{"kind":"Config"}',
    logger: createLogger({ name: 'test', level: 'error' }).scope('install'),
    checkEveryMs: 50,
    onInstalled: (r) => results.push(r),
  });
  const conf = join(net, '10-bridge.conflist');
  await installer.install();
  assert.deepEqual(results, ['SUCCESS']);
  assert.equal(installer.ready, true);
  assert.equal(readFileSync(join(bin, 'trellis-cni'), 'utf8'), '#!/bin/sh\n');
  assert.ok(existsSync(join(run, 'trellis-cni-kubeconfig')));
  assert.deepEqual(types(conf), ['bridge', 'trellis-cni']);

  installer.watch();
  copyFileSync(join(TESTDATA, 'bridge.conflist'), conf); // the primary CNI rewrites its config
  for (let i = 0; i < 100 && types(conf).at(-1) !== 'trellis-cni'; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(types(conf), ['bridge', 'trellis-cni'], 'chained again, last');

  installer.uninstall();
  assert.ok(!existsSync(join(bin, 'trellis-cni')), 'the plugin binary');
  assert.ok(!existsSync(join(run, 'trellis-cni-kubeconfig')), 'the kubeconfig');
  assert.deepEqual(types(conf), ['bridge'], 'only our entry left the conflist');
  assert.equal(readFileSync(join(bin, 'bridge'), 'utf8'), 'other plugin');
  installer.uninstall(); // nothing left to remove: no error
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(types(conf), ['bridge'], 'no watcher puts it back after uninstall');
});
