// Packing WDS for the xDS server: unchanged resources keep their Any (and version), so only the
// changed ones are pushed; the changed types are exactly those whose names or versions differ.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, packAny } from '@trellis/api';
import { AddressSchema, type Address } from '@trellis/api/gen/istio/workload/workload_pb.js';
import { parseSnapshot } from '../ingest/manifests.js';
import { translateSnapshot } from '../translate/index.js';
import { packMessages } from '../translate/pack-messages.js';
import { changedWdsTypes, packWds } from './wds-resources.js';

const pod = (name: string, ip: string, labels = '{ app: web }') => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: mesh, labels: ${labels} }
spec: { containers: [{ name: c, image: x }] }
status: { phase: Running, podIP: ${ip}, conditions: [{ type: Ready, status: "True" }] }
`;
const NS = `apiVersion: v1
kind: Namespace
metadata: { name: mesh, labels: { istio.io/dataplane-mode: ambient } }
`;
const wds = (...docs: string[]) =>
  translateSnapshot(parseSnapshot([NS, ...docs].join('---\n')).snapshot);

test('an unchanged resource keeps its packed Any and version; a changed one gets a new version', () => {
  const first = packWds(wds(pod('a', '10.0.0.1'), pod('b', '10.0.0.2')));
  const second = packWds(
    wds(pod('a', '10.0.0.1'), pod('b', '10.0.0.2', '{ app: web, version: v2 }')),
    first,
  );
  const a1 = first.get(ADDRESS_TYPE_URL)!.get('Kubernetes//Pod/mesh/a')!;
  const a2 = second.get(ADDRESS_TYPE_URL)!.get('Kubernetes//Pod/mesh/a')!;
  assert.equal(a2, a1, 'the same object, so its cached hash is reused');
  const b1 = first.get(ADDRESS_TYPE_URL)!.get('Kubernetes//Pod/mesh/b')!;
  const b2 = second.get(ADDRESS_TYPE_URL)!.get('Kubernetes//Pod/mesh/b')!;
  assert.notEqual(b2.version, b1.version);
  assert.deepEqual(changedWdsTypes(first, second), [ADDRESS_TYPE_URL]);
});

test('changed types: added and removed names count, identical snapshots change nothing', () => {
  const base = packWds(wds(pod('a', '10.0.0.1')));
  assert.deepEqual(changedWdsTypes(base, packWds(wds(pod('a', '10.0.0.1')), base)), []);
  assert.deepEqual(
    changedWdsTypes(base, packWds(wds(pod('a', '10.0.0.1'), pod('c', '10.0.0.3')), base)),
    [ADDRESS_TYPE_URL],
  );
  assert.deepEqual(changedWdsTypes(base, packWds(wds(), base)), [ADDRESS_TYPE_URL]);
  const policy = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-all, namespace: mesh }
spec: { action: DENY, rules: [{}] }
`;
  const withPolicy = packWds(wds(pod('a', '10.0.0.1'), policy), base);
  assert.deepEqual(changedWdsTypes(base, withPolicy), [AUTHORIZATION_TYPE_URL]);
  assert.ok(withPolicy.get(AUTHORIZATION_TYPE_URL)!.has('mesh/deny-all'));
});

test('packMessages encodes only new and changed messages; equal ones keep their packed entry', () => {
  const addresses = wds(pod('a', '10.0.0.1'), pod('b', '10.0.0.2')).addresses;
  const encoded: string[] = [];
  const encode = (m: Address) => {
    encoded.push(m.type.case === 'workload' ? m.type.value.name : '?');
    return packAny(AddressSchema, m);
  };
  const first = packMessages(addresses, undefined, AddressSchema, encode);
  assert.deepEqual(encoded.sort(), ['a', 'b']);

  // A fresh translation: new message objects, b changed.
  const next = wds(pod('a', '10.0.0.1'), pod('b', '10.0.0.9'), pod('c', '10.0.0.3')).addresses;
  encoded.length = 0;
  const second = packMessages(next, first, AddressSchema, encode);
  assert.deepEqual(encoded.sort(), ['b', 'c'], 'a is compared, not encoded');
  assert.equal(second.get('Kubernetes//Pod/mesh/a'), first.get('Kubernetes//Pod/mesh/a'));
  assert.notEqual(
    second.get('Kubernetes//Pod/mesh/b')!.version,
    first.get('Kubernetes//Pod/mesh/b')!.version,
  );

  encoded.length = 0;
  packMessages(next, second, AddressSchema, encode);
  assert.deepEqual(encoded, [], 'the same messages again: nothing encoded');
});
