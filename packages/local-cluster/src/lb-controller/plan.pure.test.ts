import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planLoadBalancers, type NodeView, type PlanInput, type ServiceView } from './plan.pure.js';
import { parseLbRange } from './range.pure.js';

const range = parseLbRange('10.200.0.0/29'); // .1-.6
const nodes: NodeView[] = [
  { name: 'n2', ip: '172.28.0.12', ready: true },
  { name: 'n1', ip: '172.28.0.11', ready: true },
  { name: 'n3', ip: '172.28.0.13', ready: false },
];

let seq = 0;
function svc(name: string, over: Partial<ServiceView> = {}): ServiceView {
  seq++;
  return {
    uid: `uid-${name}`,
    namespace: 'default',
    name,
    creationTimestamp: `2026-01-01T00:00:${String(seq).padStart(2, '0')}Z`,
    type: 'LoadBalancer',
    ports: [{ port: 80, protocol: 'TCP' }],
    ingress: [],
    ...over,
  };
}

function plan(services: ServiceView[], over: Partial<PlanInput> = {}) {
  return planLoadBalancers({
    range,
    services,
    nodes,
    endpointNodes: new Map(),
    assigned: new Map(),
    ...over,
  });
}

test('LoadBalancer Services get distinct addresses, in age order, with status and a route via the Ready nodes', () => {
  const p = plan([
    svc('a'),
    svc('b', {
      ports: [
        { port: 443, protocol: 'TCP' },
        { port: 53, protocol: 'UDP' },
      ],
    }),
  ]);
  assert.deepEqual(
    [...p.assigned],
    [
      ['uid-a', ['10.200.0.1']],
      ['uid-b', ['10.200.0.2']],
    ],
  );
  assert.deepEqual(p.status[1], {
    namespace: 'default',
    name: 'b',
    uid: 'uid-b',
    ingress: [
      {
        ip: '10.200.0.2',
        ipMode: 'VIP',
        ports: [
          { port: 443, protocol: 'TCP' },
          { port: 53, protocol: 'UDP' },
        ],
      },
    ],
    conditions: [],
  });
  assert.deepEqual(p.routes.get('10.200.0.1'), ['172.28.0.11', '172.28.0.12']);
  assert.deepEqual(p.problems, []);
});

test('Services of other types and of another loadBalancerClass are left alone', () => {
  const p = plan([
    svc('c', { type: 'ClusterIP' }),
    svc('n', { type: 'NodePort' }),
    svc('x', { loadBalancerClass: 'example.com/other', ingress: [{ ip: '203.0.113.9' }] }),
  ]);
  assert.equal(p.assigned.size, 0);
  assert.deepEqual(p.status, []);
  assert.equal(p.routes.size, 0);
});

test('addresses shown in status are adopted (a restarted controller keeps them), and written status is not rewritten', () => {
  const ingress = [{ ip: '10.200.0.5', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }];
  const p = plan([svc('old', { ingress }), svc('new')]);
  assert.deepEqual(p.assigned.get('uid-old'), ['10.200.0.5']);
  assert.deepEqual(p.assigned.get('uid-new'), ['10.200.0.1']);
  assert.deepEqual(
    p.status.map((s) => s.name),
    ['new'],
  );
});

test('two Services claiming one address: the older keeps it, the younger gets another', () => {
  const ingress = [{ ip: '10.200.0.3' }];
  const p = plan([svc('first', { ingress }), svc('second', { ingress })]);
  assert.deepEqual(p.assigned.get('uid-first'), ['10.200.0.3']);
  assert.deepEqual(p.assigned.get('uid-second'), ['10.200.0.1']);
});

test('an address given out before the status shows it is kept (no double allocation)', () => {
  const p = plan([svc('late'), svc('a')], { assigned: new Map([['uid-a', ['10.200.0.1']]]) });
  assert.deepEqual(p.assigned.get('uid-a'), ['10.200.0.1']);
  assert.deepEqual(p.assigned.get('uid-late'), ['10.200.0.2']);
});

test('a Service that stops being a LoadBalancer loses its address and route; a deleted one frees its address', () => {
  const ingress = [{ ip: '10.200.0.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }];
  const p = plan([svc('was-lb', { type: 'ClusterIP', ingress })], {
    assigned: new Map([['uid-was-lb', ['10.200.0.1']]]),
  });
  assert.deepEqual(p.status, [
    { namespace: 'default', name: 'was-lb', uid: 'uid-was-lb', ingress: [], conditions: [] },
  ]);
  assert.equal(p.routes.size, 0);
  assert.equal(p.assigned.size, 0);
  // The deleted Service's address goes to the next one.
  const q = plan([svc('next')], { assigned: new Map([['uid-gone', ['10.200.0.1']]]) });
  assert.deepEqual(q.assigned.get('uid-next'), ['10.200.0.1']);
});

test('spec.loadBalancerIP is honoured when in range and free, else refused with the reason', () => {
  const p = plan([
    svc('want4', { loadBalancerIP: '10.200.0.4' }),
    svc('dup', { loadBalancerIP: '10.200.0.4' }),
    svc('outside', { loadBalancerIP: '10.9.9.9' }),
  ]);
  assert.deepEqual(p.assigned.get('uid-want4'), ['10.200.0.4']);
  assert.deepEqual(
    p.problems.map((x) => [x.name, x.message]),
    [
      ['dup', 'spec.loadBalancerIP: 10.200.0.4 is already in use by another Service'],
      [
        'outside',
        "spec.loadBalancerIP: 10.9.9.9 is not in the cluster's load-balancer range 10.200.0.0/29 (10.200.0.1-10.200.0.6)",
      ],
    ],
  );
  // Changing the requested address moves the Service to it.
  const moved = plan([svc('m', { loadBalancerIP: '10.200.0.6', ingress: [{ ip: '10.200.0.2' }] })]);
  assert.deepEqual(moved.assigned.get('uid-m'), ['10.200.0.6']);
});

test('an exhausted range leaves the youngest Services pending, saying so', () => {
  const services = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => svc(n));
  const p = plan(services);
  assert.equal(p.assigned.size, 6);
  assert.equal(p.assigned.has('uid-g'), false);
  assert.deepEqual(
    p.problems.map((x) => [x.name, x.message]),
    [['g', "no free address in the cluster's load-balancer range 10.200.0.0/29 (6 in use)"]],
  );
});

test('externalTrafficPolicy Local routes to the nodes with a ready endpoint only', () => {
  const local = svc('loc', { externalTrafficPolicy: 'Local' });
  const with2 = plan([local], { endpointNodes: new Map([['default/loc', new Set(['n2'])]]) });
  assert.deepEqual(with2.routes.get('10.200.0.1'), ['172.28.0.12']);
  // No endpoint anywhere: every Ready node (kube-proxy there refuses the connection).
  const none = plan([local]);
  assert.deepEqual(none.routes.get('10.200.0.1'), ['172.28.0.11', '172.28.0.12']);
  // An endpoint on a node that is not Ready does not count.
  const notReady = plan([local], { endpointNodes: new Map([['default/loc', new Set(['n3'])]]) });
  assert.deepEqual(notReady.routes.get('10.200.0.1'), ['172.28.0.11', '172.28.0.12']);
});

test('the metallb.io/loadBalancerIPs annotation asks for several addresses: all of them or none, with a status condition saying why', () => {
  const now = '2026-12-07T00:00:00Z';
  const p = plan(
    [
      svc('two', { loadBalancerIPs: '10.200.0.5, 10.200.0.6' }),
      svc('half-outside', { loadBalancerIPs: '10.200.0.3,10.9.9.9' }),
      svc('taken', { loadBalancerIPs: '10.200.0.6' }),
      svc('garbage', { loadBalancerIPs: 'fake address' }),
    ],
    { now },
  );
  assert.deepEqual(p.assigned.get('uid-two'), ['10.200.0.5', '10.200.0.6']);
  assert.deepEqual(
    p.status.find((s) => s.name === 'two')?.ingress.map((i) => i.ip),
    ['10.200.0.5', '10.200.0.6'],
  );
  assert.deepEqual(p.routes.get('10.200.0.6'), ['172.28.0.11', '172.28.0.12']);
  // Nothing of a request that cannot be met in full is given out (10.200.0.3 stays free).
  assert.equal(p.assigned.has('uid-half-outside'), false);
  assert.equal(p.routes.has('10.200.0.3'), false);
  assert.deepEqual(
    p.problems.map((x) => [x.name, x.reason, x.message]),
    [
      [
        'half-outside',
        'AddressNotUsable',
        "annotation metallb.io/loadBalancerIPs: 10.9.9.9 is not in the cluster's load-balancer range 10.200.0.0/29 (10.200.0.1-10.200.0.6)",
      ],
      [
        'taken',
        'AddressNotUsable',
        'annotation metallb.io/loadBalancerIPs: 10.200.0.6 is already in use by another Service',
      ],
      [
        'garbage',
        'AddressNotUsable',
        'annotation metallb.io/loadBalancerIPs: not an IPv4 address: fake address',
      ],
    ],
  );
  assert.deepEqual(
    p.status.find((s) => s.name === 'taken'),
    {
      namespace: 'default',
      name: 'taken',
      uid: 'uid-taken',
      ingress: [],
      conditions: [
        {
          type: 'LoadBalancerAddressError',
          status: 'True',
          reason: 'AddressNotUsable',
          message:
            'annotation metallb.io/loadBalancerIPs: 10.200.0.6 is already in use by another Service',
          lastTransitionTime: now,
        },
      ],
    },
  );
});

test('the condition is kept while the problem lasts (not rewritten) and removed, other conditions kept, once the Service has its address', () => {
  const other = { type: 'LoadBalancerPortsError', status: 'False', reason: 'Ok', message: '' };
  const ours = {
    type: 'LoadBalancerAddressError',
    status: 'True',
    reason: 'AddressNotUsable',
    message:
      "spec.loadBalancerIP: 10.9.9.9 is not in the cluster's load-balancer range 10.200.0.0/29 (10.200.0.1-10.200.0.6)",
    lastTransitionTime: '2026-12-06T00:00:00Z',
  };
  const still = plan([svc('s', { loadBalancerIP: '10.9.9.9', conditions: [other, ours] })], {
    now: '2026-12-07T00:00:00Z',
  });
  assert.deepEqual(still.status, []);
  const fixed = plan([svc('s', { loadBalancerIP: '10.200.0.2', conditions: [other, ours] })]);
  assert.deepEqual(fixed.status[0]?.conditions, [other]);
  assert.deepEqual(
    fixed.status[0]?.ingress.map((i) => i.ip),
    ['10.200.0.2'],
  );
  // A Service that stopped being a LoadBalancer loses the condition too.
  const gone = plan([svc('s', { type: 'ClusterIP', conditions: [ours] })]);
  assert.deepEqual(gone.status[0]?.conditions, []);
});

test('a Service holding two addresses that now asks for one moves to it', () => {
  const ingress = [{ ip: '10.200.0.2' }, { ip: '10.200.0.3' }];
  const p = plan([svc('m', { loadBalancerIPs: '10.200.0.3', ingress })], {
    assigned: new Map([['uid-m', ['10.200.0.2', '10.200.0.3']]]),
  });
  assert.deepEqual(p.assigned.get('uid-m'), ['10.200.0.3']);
  assert.equal(p.routes.has('10.200.0.2'), false);
});
