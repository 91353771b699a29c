import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseHostMountpoints } from './host-mountpoints.js';

test('a mount point another cluster still uses waits for the last cluster deleted, then goes', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'trellis-mountpoints-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // Cluster A made <root>/run/secrets/sa (as /var/run/secrets/kubernetes.io/serviceaccount on a
  // fresh host); cluster B's containers mount it too but did not make it, so B has no record.
  const [run, secrets, sa] = ['run', 'run/secrets', 'run/secrets/sa'].map((p) => join(root, p));
  mkdirSync(sa!, { recursive: true });
  const recordA = join(root, 'a.host-mountpoints');
  const recordB = join(root, 'b.host-mountpoints');
  const pending = join(root, 'host-mountpoints.pending');
  writeFileSync(recordA, `${run}\n${secrets}\n${sa}\n`);
  let mountedByB = true;

  await releaseHostMountpoints(recordA, pending, (p) => mountedByB && p === sa);
  assert.ok(existsSync(sa!), 'a path another cluster has mounted stays');
  assert.deepEqual(readFileSync(pending, 'utf8').split('\n').filter(Boolean).sort(), [
    run,
    secrets,
    sa,
  ]);

  mountedByB = false;
  await releaseHostMountpoints(recordB, pending, () => mountedByB);
  assert.equal(existsSync(run!), false, 'the last delete removes what the first one left');
  assert.equal(existsSync(pending), false, 'nothing is left pending');
});

test('paths already gone or never recorded are left alone', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'trellis-mountpoints-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const keep = join(root, 'host-dir');
  mkdirSync(keep);
  const record = join(root, 'record');
  writeFileSync(record, `${join(root, 'gone')}\n`);
  await releaseHostMountpoints(record, join(root, 'pending'), () => false);
  assert.ok(existsSync(keep));
  assert.equal(existsSync(join(root, 'pending')), false);
});
