import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { authorize } from '../rbac/authorize.js';
import { LocalConfigError, localConfigUpdate, parseLocalConfig } from './local-config.js';
import { StateStore } from './store.js';

const EXAMPLE = new URL('../../examples/local.yaml', import.meta.url);

function problems(yaml: string): readonly string[] {
  try {
    parseLocalConfig(yaml, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof LocalConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected the config to be refused');
}

test("examples/local.yaml loads into a store that answers the proxies' questions", () => {
  const config = parseLocalConfig(readFileSync(EXAMPLE, 'utf8'), 'examples/local.yaml');
  assert.equal(config.workloads.length, 5);
  assert.equal(config.services.length, 3);
  assert.equal(config.policies.length, 3);

  const store = new StateStore({ random: () => 0 });
  store.apply(localConfigUpdate(undefined, config));
  const echoPod = store.workloadByAddr('127.0.20.2');
  assert.equal(echoPod?.uid, 'Kubernetes//Pod/default/echo-v1-b2');
  assert.equal(echoPod?.protocol, 'HBONE');
  assert.equal(echoPod?.serviceAccount, 'echo');

  const echo = store.serviceByVip('10.96.0.20');
  assert.equal(echo?.hostname, 'echo.default.svc.cluster.local');
  const pick = store.pickEndpoint(echo!, 80);
  assert.deepEqual(pick.kind === 'endpoint' && [pick.workload.uid, pick.address, pick.port], [
    'Kubernetes//Pod/default/echo-v1-a1',
    '127.0.20.1',
    8080,
  ]);

  const reviews = store.serviceByKey('default/reviews.default.svc.cluster.local')!;
  assert.equal(store.waypointFor(reviews)?.service?.hostname, 'waypoint.default.svc.cluster.local');

  // The example's policies at work on echo.
  const client = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'client' };
  const ask = (c: Partial<Parameters<typeof authorize>[1]>) =>
    authorize(store.policiesFor(echoPod!), {
      sourceIp: '127.0.10.1',
      destinationIp: '127.0.20.2',
      destinationPort: 8080,
      ...c,
    });
  assert.equal(ask({ sourceIdentity: client }).reason, 'allowed');
  assert.equal(ask({ sourceIdentity: client, destinationPort: 9000 }).reason, 'not-allowed');
  assert.equal(
    ask({}).policy,
    'default/converted_peer_authentication_default',
    'plaintext is denied',
  );
  assert.deepEqual(ask({ sourceIdentity: client, sourceIp: '192.168.0.1' }).dryRun?.matched, [
    'istio-system/audit-deny-outside',
  ]);
});

test('an empty file is an empty config', () => {
  assert.deepEqual(parseLocalConfig('', 'empty.yaml'), {
    workloads: [],
    services: [],
    policies: [],
  });
});

test('every problem is reported, naming the entry and the field', () => {
  const got = problems(`
workloads:
  - uid: a
    namespace: default
    workloadIps: [10.0.0.1, 10.0.0]
  - name: no-uid
    namespace: default
  - uid: c
    namespace: default
    protocol: QUIC
  - uid: d
    namespace: default
    services: {web: {80: 8080}}
  - uid: ok
    namespace: default
  - uid: ok
    namespace: default
  - uid: e
    namespace: default
    colour: blue
services:
  - namespace: default
    hostname: web.default.svc.cluster.local
    ports: {0: 80}
  - namespace: default
    hostname: api
    vips: [10.96.0.1/24]
    waypoint: {service: nowhere}
policies:
  - name: p
    namespace: default
    action: Reject
  - name: q
    namespace: default
    rules:
      - - - principals: [{exact: a, prefix: b}]
  - name: r
    namespace: default
    rules:
      - - - sourceIps: [10.0.0.0/40]
  - name: s
    namespace: default
    rules:
      - - - destinationPorts: [70000]
`);
  assert.deepEqual(got, [
    'workloads[0] (uid "a").workloadIps[1]: "10.0.0" is not an IP address',
    'workloads[1].uid: is required',
    'workloads[2] (uid "c").protocol: expected one of TCP, HBONE, got string "QUIC"',
    'workloads[3]: workload "d": services["web"]: key must be "<namespace>/<hostname>"',
    'workloads[5]: duplicate uid "ok" (same as workloads[4])',
    'workloads[6]: unknown field "colour"; known fields: uid, name, namespace, serviceAccount, trustDomain, workloadIps, hostname, network, node, protocol, status, services, waypoint, authorizationPolicies, canonicalName, canonicalRevision, workloadName, clusterId, locality, capacity',
    'services[0] (hostname "web.default.svc.cluster.local").ports[0]: expected a port from 1 to 65535, got string "0"',
    'services[1] (hostname "api").vips[0]: "10.96.0.1/24" is not "<ip>" or "<network>/<ip>"',
    'policies[0] (name "p").action: expected one of Allow, Deny, got string "Reject"',
    'policies[1] (name "q").rules[0][0][0].principals[0]: set exactly one of exact, prefix, suffix or presence',
    'policies[2]: policy "default/r": rules[0].clauses[0].matches[0].source_ips[0].length: prefix length 40 is above 32',
    'policies[3] (name "s").rules[0][0][0].destinationPorts[0]: expected a port from 1 to 65535, got number 70000',
  ]);
});

test('a waypoint needs exactly one of service or address, a service "<namespace>/<hostname>"', () => {
  assert.deepEqual(
    problems('services: [{namespace: a, hostname: b, waypoint: {service: nowhere}}]'),
    ['services[0] (hostname "b").waypoint.service: "nowhere" is not "<namespace>/<hostname>"'],
  );
  assert.deepEqual(
    problems(
      'services: [{namespace: a, hostname: b, waypoint: {service: a/w, address: 10.0.0.1}}]',
    ),
    ['services[0] (hostname "b").waypoint: set exactly one of service or address'],
  );
});

test('YAML syntax errors and a wrong top level are reported', () => {
  assert.match(problems('workloads: [')[0], /^not valid YAML: /);
  assert.deepEqual(problems('- a\n- b\n'), ['(top level): expected a mapping, got a list']);
  assert.deepEqual(problems('workloads: {uid: a}\n'), [
    'workloads: expected a list, got a mapping',
  ]);
  assert.deepEqual(problems('pods: []\n'), [
    '(top level): unknown field "pods"; known fields: workloads, services, policies',
  ]);
  assert.throws(
    () => parseLocalConfig('pods: []\n', '/etc/ztunnel/local.yaml'),
    /^LocalConfigError: \/etc\/ztunnel\/local.yaml: \(top level\): unknown field "pods"/,
  );
});

test('network-qualified addresses, waypoint by address, locality and load balancing are read', () => {
  const c = parseLocalConfig(`
workloads:
  - uid: w
    namespace: default
    workloadIps: ["fd00::1"]
    network: net-a
    waypoint: {address: net-a/10.0.0.9, hbonePort: 15009}
    locality: {region: r1, zone: z1}
    status: Unhealthy
    capacity: 4
services:
  - namespace: default
    hostname: s
    vips: ["net-a/10.96.0.1", "fd00::10"]
    ports: {80: 0}
    loadBalancing: {mode: Failover, healthPolicy: AllowAll, routingPreference: [NETWORK, ZONE]}
`);
  const w = c.workloads[0];
  assert.deepEqual(w.waypoint, {
    destination: { kind: 'address', network: 'net-a', address: '10.0.0.9' },
    hbonePort: 15009,
  });
  assert.deepEqual(
    [w.addresses, w.locality, w.status, w.capacity],
    [['fd00::1'], { region: 'r1', zone: 'z1', subzone: '' }, 'Unhealthy', 4],
  );
  const s = c.services[0];
  assert.deepEqual(s.vips, [
    { network: 'net-a', address: '10.96.0.1' },
    { network: '', address: 'fd00::10' },
  ]);
  assert.deepEqual(s.ports, [{ servicePort: 80, targetPort: 0, appProtocol: 'UNKNOWN' }]);
  assert.deepEqual(s.loadBalancing, {
    mode: 'Failover',
    healthPolicy: 'AllowAll',
    routingPreference: ['NETWORK', 'ZONE'],
  });
});

test('localConfigUpdate removes what the previous file had and the new one lacks', () => {
  const before = parseLocalConfig(`
workloads: [{uid: a, namespace: x}, {uid: b, namespace: x}]
services: [{namespace: x, hostname: s1}, {namespace: x, hostname: s2}]
policies: [{name: p1, namespace: x}, {name: p2, namespace: x}]
`);
  const after = parseLocalConfig(`
workloads: [{uid: b, namespace: x}]
services: [{namespace: x, hostname: s2}]
policies: [{name: p2, namespace: x}]
`);
  const update = localConfigUpdate(before, after);
  assert.deepEqual(
    [update.removeWorkloads, update.removeServices, update.removePolicies],
    [['a'], ['x/s1'], ['x/p1']],
  );
  assert.deepEqual(localConfigUpdate(undefined, after).removeWorkloads, []);
});
