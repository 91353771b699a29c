import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aliases, searchDomains, wildcards } from './names.js';

const names = (name: string) =>
  aliases(name, 'shop', 'cluster.local').map((a) =>
    a.stripped ? `${a.name} <- ${a.stripped}` : a.name,
  );

test("a pod's search list comes from its namespace", () => {
  assert.deepEqual(searchDomains('shop', 'cluster.local'), [
    'shop.svc.cluster.local',
    'svc.cluster.local',
    'cluster.local',
  ]);
});

test('short names expand the Kubernetes way, in the asking pod namespace', () => {
  assert.deepEqual(names('web'), ['web', 'web.shop.svc.cluster.local']);
  assert.deepEqual(names('web.db'), [
    'web.db',
    'web.db.svc.cluster.local',
    'web.db.shop.svc.cluster.local',
  ]);
  assert.deepEqual(names('web.db.svc'), [
    'web.db.svc',
    'web.db.svc.cluster.local',
    'web.db.svc.svc.cluster.local',
  ]);
  assert.deepEqual(names('a.b.db.svc'), ['a.b.db.svc', 'a.b.db.svc.cluster.local']);
  assert.deepEqual(names('www.example.com'), [
    'www.example.com',
    'www.example.com.svc.cluster.local',
  ]);
});

test('a search domain the resolver appended is stripped again (with its expansions)', () => {
  // glibc with ndots:5 asks for "web.db.shop.svc.cluster.local" first when the app says "web.db".
  assert.deepEqual(names('web.db.shop.svc.cluster.local'), [
    'web.db.shop.svc.cluster.local',
    'web.db <- web.db',
    'web.db.svc.cluster.local <- web.db',
    'web.db.shop <- web.db.shop',
    'web.db.shop.svc <- web.db.shop.svc',
  ]);
  assert.deepEqual(names('web.shop.svc.cluster.local'), [
    'web.shop.svc.cluster.local',
    'web <- web',
    'web.shop <- web.shop',
    'web.shop.shop.svc.cluster.local <- web.shop',
    'web.shop.svc <- web.shop.svc',
    'web.shop.svc.svc.cluster.local <- web.shop.svc',
  ]);
});

test('wildcards from most to least specific', () => {
  assert.deepEqual(wildcards('a.b.example.com'), [
    'a.b.example.com',
    '*.b.example.com',
    '*.example.com',
    '*.com',
  ]);
  assert.deepEqual(wildcards('web'), ['web']);
});
