import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  containerMounts,
  downwardFiles,
  keyFiles,
  tokenRefreshAfterSeconds,
} from './volumes.pure.js';

test('ConfigMap/Secret files: all keys by default, or the listed items with their modes', () => {
  assert.deepEqual(
    keyFiles({ a: '1', b: '2' }, undefined, 0o644, 'cm').map((f) => f.path),
    ['a', 'b'],
  );
  assert.deepEqual(keyFiles({ a: '1' }, [{ key: 'a', path: 'dir/x', mode: 0o600 }], 0o644, 'cm'), [
    { path: 'dir/x', content: '1', mode: 0o600 },
  ]);
  assert.throws(
    () => keyFiles({}, [{ key: 'ca.crt', path: 'ca.crt' }], 0o644, 'ConfigMap kube-root-ca.crt'),
    /ConfigMap kube-root-ca.crt: key "ca.crt" not found/,
  );
});

test('downward API files and container mounts with subPath', () => {
  const facts = {
    name: 'p',
    namespace: 'ns',
    uid: 'u',
    podIP: '',
    hostIP: '',
    nodeName: '',
    serviceAccountName: 'default',
    labels: {},
    annotations: {},
  };
  assert.deepEqual(
    downwardFiles(
      [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }],
      facts,
      0o644,
    ),
    [{ path: 'namespace', content: 'ns', mode: 0o644 }],
  );
  const dirs = new Map([['tok', '/pod/volumes/tok']]);
  assert.deepEqual(
    containerMounts(
      {
        name: 'c',
        volumeMounts: [
          { name: 'tok', mountPath: '/var/run/secrets/x', readOnly: true, subPath: 'sub' },
        ],
      },
      dirs,
    ),
    [
      {
        source: '/pod/volumes/tok/sub',
        target: '/var/run/secrets/x',
        readOnly: true,
        propagation: 'None',
      },
    ],
  );
  assert.throws(
    () => containerMounts({ name: 'c', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, dirs),
    /volumeMount "nope" has no matching volume/,
  );
});

test('tokens are refreshed at 80% of their lifetime, at most after 24 h', () => {
  const t0 = new Date(0);
  assert.equal(tokenRefreshAfterSeconds(t0, new Date(3600_000)), 2880);
  assert.equal(tokenRefreshAfterSeconds(t0, new Date(365 * 24 * 3600_000)), 24 * 3600);
});
