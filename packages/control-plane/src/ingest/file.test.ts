import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfigDir, watchConfigDir, type ConfigDirLoad } from './file.js';
import { formatProblem } from './manifests.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'trellis-config-dir-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

/** Collects loads; `next()` resolves with the next one that satisfies `until`. */
function loads() {
  const seen: ConfigDirLoad[] = [];
  const waiters: { until: (l: ConfigDirLoad) => boolean; resolve: (l: ConfigDirLoad) => void }[] =
    [];
  return {
    seen,
    onLoad(load: ConfigDirLoad) {
      seen.push(load);
      for (const w of [...waiters]) {
        if (w.until(load)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(load);
        }
      }
    },
    next(until: (l: ConfigDirLoad) => boolean): Promise<ConfigDirLoad> {
      const done = seen.find(until);
      if (done) return Promise.resolve(done);
      return new Promise((resolve) => waiters.push({ until, resolve }));
    },
  };
}

const names = (l: ConfigDirLoad) => l.snapshot.namespaces.map((n) => n.metadata?.name).join(',');

test('loadConfigDir reads yaml, yml and json files in name order and skips everything else', async () => {
  const dir = await mkdtemp(join(root, 'load-'));
  await writeFile(join(dir, 'b.yml'), ns('b'));
  await writeFile(join(dir, 'a.yaml'), `${ns('a1')}---\n${ns('a2')}`);
  await writeFile(
    join(dir, 'c.json'),
    JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' } }),
  );
  await writeFile(join(dir, '.hidden.yaml'), ns('hidden'));
  await writeFile(join(dir, 'notes.txt'), ns('txt'));
  await mkdir(join(dir, 'sub.yaml'));
  const load = await loadConfigDir(dir);
  assert.equal(names(load), 'a1,a2,b,c');
  assert.deepEqual(load.files, ['a.yaml', 'b.yml', 'c.json']);
  assert.deepEqual(load.problems, []);
});

test('loadConfigDir names a missing directory', async () => {
  await assert.rejects(loadConfigDir(join(root, 'nope')), /config dir .*nope: ENOENT/);
});

test(
  'watchConfigDir emits the first load, then a new snapshot after each change, keeping good documents',
  { timeout: 20_000 },
  async () => {
    const dir = await mkdtemp(join(root, 'watch-'));
    await writeFile(join(dir, 'mesh.yaml'), ns('one'));
    const l = loads();
    const errors: Error[] = [];
    const w = watchConfigDir(dir, {
      debounceMs: 20,
      onLoad: l.onLoad,
      onError: (e) => errors.push(e),
    });
    try {
      const first = await w.ready;
      assert.equal(names(first), 'one');

      await writeFile(join(dir, 'mesh.yaml'), `${ns('one')}---\nkind: Pod\n---\n${ns('two')}`);
      const second = await l.next((x) => names(x) === 'one,two');
      assert.deepEqual(second.problems.map(formatProblem), [
        'mesh.yaml: document 2: apiVersion is missing',
      ]);

      await rm(join(dir, 'mesh.yaml'));
      const third = await l.next((x) => x.files.length === 0);
      assert.equal(names(third), '');
      assert.deepEqual(errors, []);
    } finally {
      w.close();
    }
  },
);

test(
  'watchConfigDir follows a ConfigMap-style `..data` symlink swap',
  { timeout: 20_000 },
  async () => {
    const dir = await mkdtemp(join(root, 'configmap-'));
    await mkdir(join(dir, '..v1'));
    await writeFile(join(dir, '..v1', 'mesh.yaml'), ns('v1'));
    await symlink('..v1', join(dir, '..data'));
    await symlink(join('..data', 'mesh.yaml'), join(dir, 'mesh.yaml'));
    const l = loads();
    const w = watchConfigDir(dir, {
      debounceMs: 20,
      onLoad: l.onLoad,
      onError: (e) => assert.fail(e),
    });
    try {
      assert.equal(names(await w.ready), 'v1');
      // What the kubelet does: write a new timestamped dir, then atomically repoint ..data.
      await mkdir(join(dir, '..v2'));
      await writeFile(join(dir, '..v2', 'mesh.yaml'), ns('v2'));
      await symlink('..v2', join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
      assert.equal(names(await l.next((x) => names(x) === 'v2')), 'v2');
    } finally {
      w.close();
    }
  },
);

test('watchConfigDir rejects ready for a missing directory', async () => {
  const w = watchConfigDir(join(root, 'missing'), {
    onLoad: () => assert.fail('no load expected'),
    onError: () => {},
  });
  await assert.rejects(w.ready, /missing/);
  w.close();
});
