import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '@trellis/core';
import { LocalConfigError } from './local-config.js';
import { LocalConfigFile } from './local-config-file.js';
import { StateStore } from './store.js';

function tempFile(t: { after(fn: () => void): void }, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ztunnel-local-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'local.yaml');
  writeFileSync(path, text);
  return path;
}

test('a reload replaces what the file put in the store; a broken file keeps the previous contents', async (t) => {
  const path = tempFile(
    t,
    'workloads: [{uid: a, namespace: x, workloadIps: [10.0.0.1]}, {uid: b, namespace: x}]\n',
  );
  const store = new StateStore();
  const lines: { msg: string; err?: string }[] = [];
  const log = createLogger({
    level: 'info',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  const file = new LocalConfigFile(path, store);

  const first = await file.load();
  assert.deepEqual(first.workloads.upserted, ['a', 'b']);

  writeFileSync(path, 'workloads: [{uid: b, namespace: x}, {uid: c, namespace: x}]\n');
  assert.equal(await file.reload(log.root), true);
  assert.deepEqual(
    store.workloads().map((w) => w.uid),
    ['b', 'c'],
  );
  assert.equal(store.workloadByAddr('10.0.0.1'), undefined);

  writeFileSync(path, 'workloads: [{uid: d}]\n');
  assert.equal(await file.reload(log.root), false);
  assert.deepEqual(
    store.workloads().map((w) => w.uid),
    ['b', 'c'],
    'unchanged',
  );
  assert.match(lines.at(-1)!.err!, /workloads\[0\] \(uid "d"\).namespace: is required/);

  // After a failed reload, the next good one still diffs against what the store holds.
  writeFileSync(path, 'workloads: [{uid: c, namespace: x}]\n');
  assert.equal(await file.reload(log.root), true);
  assert.deepEqual(
    store.workloads().map((w) => w.uid),
    ['c'],
  );
});

test('load refuses a missing or invalid file', async (t) => {
  const store = new StateStore();
  await assert.rejects(new LocalConfigFile('/nonexistent/local.yaml', store).load(), /ENOENT/);
  const path = tempFile(t, 'workloads: [{uid: a}]\n');
  await assert.rejects(
    new LocalConfigFile(path, store).load(),
    (err: unknown) => err instanceof LocalConfigError && err.source === path,
  );
});
