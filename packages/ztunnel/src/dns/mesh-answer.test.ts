import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StateStore } from '../state/store.js';
import { service, workload } from '../test-support/fixtures.js';
import { meshAnswer } from './mesh-answer.js';
import { TYPE } from './message.js';

const store = new StateStore();
const vip = (address: string, network = '') => ({ network, address });
store.apply({
  upsertServices: [
    service({
      hostname: 'web.shop.svc.cluster.local',
      namespace: 'shop',
      vips: [vip('10.96.0.7'), vip('fd00::7'), vip('10.200.0.7', 'other-net')],
    }),
    service({
      hostname: 'web.blog.svc.cluster.local',
      namespace: 'blog',
      vips: [vip('10.96.1.7')],
    }),
    service({
      hostname: 'secret.ops.svc.cluster.local',
      namespace: 'ops',
      vips: [vip('10.96.2.7')],
      visibility: 'Namespace',
    }),
    service({
      hostname: 'v4.shop.svc.cluster.local',
      namespace: 'shop',
      vips: [vip('10.96.0.9')],
      ipFamilies: 'IPv4Only',
    }),
    service({ hostname: 'db.shop.svc.cluster.local', namespace: 'shop' }), // headless
    service({ hostname: 'api.example.com', namespace: 'shop' }), // a ServiceEntry without VIP
    service({ hostname: '*.wild.example', namespace: 'shop', vips: [vip('240.0.0.9')] }),
  ],
  upsertWorkloads: [
    workload({
      uid: 'Kubernetes//Pod/shop/db-0',
      namespace: 'shop',
      addresses: ['10.1.0.5', 'fd00:1::5'],
      services: { 'shop/db.shop.svc.cluster.local': [{ servicePort: 5432, targetPort: 5432 }] },
    }),
  ],
});

const client = { namespace: 'shop', network: '' };
const ask = (name: string, type: number = TYPE.A, from = client) =>
  meshAnswer(store, { name: name.toLowerCase(), rawName: name, type }, from, {
    clusterDomain: 'cluster.local',
    ipv6: true,
  });
const records = (r: ReturnType<typeof ask>) =>
  r.kind === 'answer' ? r.answers.map((a) => `${a.name} ${a.type} ${a.data}`) : r.kind;

test('a service FQDN, its short forms and names the resolver extended with the search list', () => {
  assert.deepEqual(records(ask('web.shop.svc.cluster.local')), [
    'web.shop.svc.cluster.local 1 10.96.0.7',
  ]);
  assert.deepEqual(records(ask('Web')), ['Web 1 10.96.0.7'], 'the client case is echoed');
  assert.deepEqual(records(ask('web.blog')), ['web.blog 1 10.96.1.7']);
  assert.deepEqual(records(ask('web.blog.svc')), ['web.blog.svc 1 10.96.1.7']);
  assert.deepEqual(records(ask('web.blog.shop.svc.cluster.local')), [
    'web.blog.shop.svc.cluster.local 5 web.blog',
    'web.blog 1 10.96.1.7',
  ]);
  assert.deepEqual(records(ask('web', TYPE.AAAA)), ['web 28 fd00::7']);
  assert.deepEqual(records(ask('web', TYPE.A, { namespace: 'blog', network: '' })), [
    'web 1 10.96.1.7',
  ]);
  assert.deepEqual(records(ask('web', TYPE.A, { namespace: 'shop', network: 'other-net' })), [
    'web 1 10.200.0.7',
  ]);
});

test('headless services answer with their endpoints; wildcards match', () => {
  assert.deepEqual(records(ask('db')), ['db 1 10.1.0.5']);
  assert.deepEqual(records(ask('db', TYPE.AAAA)), ['db 28 fd00:1::5']);
  assert.deepEqual(records(ask('x.wild.example')), ['x.wild.example 1 240.0.0.9']);
});

test('what is not ours goes upstream; a known name without that family is an empty answer', () => {
  assert.equal(ask('www.example.org').kind, 'forward');
  assert.equal(ask('web', TYPE.CNAME).kind, 'forward', 'only A and AAAA are answered');
  assert.equal(ask('api.example.com').kind, 'forward', 'no VIP outside svc.<domain>');
  assert.equal(ask('secret.ops').kind, 'forward', 'not visible from another namespace');
  assert.deepEqual(records(ask('secret', TYPE.A, { namespace: 'ops', network: '' })), [
    'secret 1 10.96.2.7',
  ]);
  const v4 = ask('v4', TYPE.AAAA);
  assert.equal(v4.kind, 'answer');
  assert.deepEqual(records(v4), []);
  assert.deepEqual(
    records(
      meshAnswer(store, { name: 'web', rawName: 'web', type: TYPE.AAAA }, client, {
        clusterDomain: 'cluster.local',
        ipv6: false,
      }),
    ),
    [],
  );
});
