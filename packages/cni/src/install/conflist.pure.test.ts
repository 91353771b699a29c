import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  chainedLast,
  insertPlugin,
  pluginEntry,
  primaryConfFile,
  removePlugin,
} from './conflist.pure.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../testdata/conflist');
const read = (f: string) => readFileSync(join(dir, f), 'utf8');
function golden(name: string, actual: string): void {
  const file = join(dir, name);
  if (process.env.REFRESH_GOLDEN === '1') writeFileSync(file, actual);
  assert.equal(
    actual,
    readFileSync(file, 'utf8'),
    `${file} differs (REFRESH_GOLDEN=1 rewrites it)`,
  );
}

const entry = pluginEntry({
  agentRunDir: '/var/run/istio-cni',
  excludeNamespaces: ['kube-system'],
  podNamespace: 'istio-system',
  logLevel: 'info',
});

test('golden: our entry goes last in a conflist, and only once', () => {
  const out = insertPlugin(read('bridge.conflist'), 'bridge.conflist', entry)!;
  assert.equal(out.fileName, 'bridge.conflist');
  golden('bridge.conflist.golden', out.text);
  assert.equal(
    insertPlugin(out.text, 'bridge.conflist', entry),
    undefined,
    'already chained: no write',
  );
  assert.ok(chainedLast(out.text, 'bridge.conflist'));
});

test('golden: a single-plugin .conf becomes a .conflist', () => {
  const out = insertPlugin(read('bridge.conf'), '10-bridge.conf', entry)!;
  assert.equal(out.fileName, '10-bridge.conflist');
  golden('bridge.conf.golden', out.text);
});

test('a rewritten config with our entry in the middle gets it moved last; a changed entry is replaced', () => {
  const chained = insertPlugin(read('bridge.conflist'), 'x.conflist', entry)!.text;
  const doc = JSON.parse(chained) as { plugins: object[] };
  doc.plugins.push({ type: 'portmap', capabilities: { portMappings: true } });
  const moved = insertPlugin(JSON.stringify(doc), 'x.conflist', entry)!;
  const plugins = (JSON.parse(moved.text) as { plugins: { type: string }[] }).plugins;
  assert.deepEqual(
    plugins.map((p) => p.type),
    ['bridge', 'portmap', 'trellis-cni'],
  );
  const changed = insertPlugin(moved.text, 'x.conflist', { ...entry, plugin_log_level: 'debug' })!;
  assert.equal((JSON.parse(changed.text) as { plugins: object[] }).plugins.length, 3);
});

test('removal takes out only our entry; nothing to remove gives undefined', () => {
  const chained = insertPlugin(read('bridge.conflist'), 'x.conflist', entry)!.text;
  assert.deepEqual(
    JSON.parse(removePlugin(chained, 'x.conflist')!),
    JSON.parse(read('bridge.conflist')),
  );
  assert.equal(removePlugin(read('bridge.conflist'), 'x.conflist'), undefined);
});

test('the primary config is the first by name, or the one named; bad configs are refused', () => {
  assert.equal(primaryConfFile(['99-z.conflist', '10-a.conf', 'README']), '10-a.conf');
  assert.equal(primaryConfFile(['10-a.conflist'], '10-a.conf'), '10-a.conflist');
  assert.equal(primaryConfFile(['README']), undefined);
  assert.throws(() => insertPlugin('{', 'x.conflist', entry), /x.conflist: not JSON/);
  assert.throws(
    () => insertPlugin('{"plugins":[]}', 'x.conflist', entry),
    /"plugins" must be a non-empty array/,
  );
  assert.throws(
    () => insertPlugin('{"plugins":[{}]}', 'x.conflist', entry),
    /every plugin needs a "type"/,
  );
});
