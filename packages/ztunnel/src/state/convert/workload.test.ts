import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AddressSchema,
  WorkloadSchema,
  type Workload as XdsWorkload,
} from '@trellis/api/gen/istio/workload/workload_pb.js';
import { ipToBytes } from '../../net/ip.js';
import { convertAddress } from './address.js';
import { convertWorkload } from './workload.js';

/** An enum number the schema does not define, as a decoder delivers it. */
const unknown = (n: number) => n as never;

type Init = Parameters<typeof create<typeof WorkloadSchema>>[1];

function wl(init: Init = {}): XdsWorkload {
  return create(WorkloadSchema, {
    uid: 'Kubernetes//Pod/default/web-1',
    name: 'web-1',
    namespace: 'default',
    addresses: [ipToBytes('10.0.0.1')!, ipToBytes('fd00::1')!],
    ...init,
  });
}

test('convertWorkload turns a full message into the model, with defaults applied', () => {
  const r = convertWorkload(
    wl({
      tunnelProtocol: 1,
      serviceAccount: 'web',
      node: 'node-1',
      network: 'net-a',
      canonicalName: 'web',
      canonicalRevision: 'v1',
      workloadType: 2,
      workloadName: 'web',
      services: {
        'default/web.default.svc.cluster.local': { ports: [{ servicePort: 80, targetPort: 8080 }] },
      },
      authorizationPolicies: ['default/allow-web'],
      waypoint: {
        destination: {
          case: 'hostname',
          value: { namespace: 'default', hostname: 'wp.default.svc.cluster.local' },
        },
      },
      applicationTunnel: { protocol: 1, port: 15088 },
      status: 1,
      locality: { region: 'r', zone: 'z', subzone: 's' },
      capacity: 3,
    }),
  );
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.value, {
    uid: 'Kubernetes//Pod/default/web-1',
    name: 'web-1',
    namespace: 'default',
    addresses: ['10.0.0.1', 'fd00::1'],
    hostname: '',
    network: 'net-a',
    protocol: 'HBONE',
    trustDomain: 'cluster.local',
    serviceAccount: 'web',
    waypoint: {
      destination: {
        kind: 'hostname',
        namespace: 'default',
        hostname: 'wp.default.svc.cluster.local',
      },
      hbonePort: 15008,
    },
    node: 'node-1',
    canonicalName: 'web',
    canonicalRevision: 'v1',
    workloadType: 'pod',
    workloadName: 'web',
    nativeTunnel: false,
    applicationTunnel: { protocol: 'PROXY', port: 15088 },
    services: { 'default/web.default.svc.cluster.local': [{ servicePort: 80, targetPort: 8080 }] },
    authorizationPolicies: ['default/allow-web'],
    status: 'Unhealthy',
    clusterId: 'Kubernetes',
    locality: { region: 'r', zone: 'z', subzone: 's' },
    networkMode: 'Standard',
    capacity: 3,
  });
});

test('convertWorkload defaults: TCP, service account "default", capacity 1', () => {
  const r = convertWorkload(wl());
  assert.ok(r.ok);
  assert.equal(r.value.protocol, 'TCP');
  assert.equal(r.value.serviceAccount, 'default');
  assert.equal(r.value.trustDomain, 'cluster.local');
  assert.equal(r.value.capacity, 1);
  assert.equal(r.value.waypoint, undefined);
});

test('a service port listed once per protocol (kube-dns: 53/UDP, 53/TCP) is one mapping', () => {
  const r = convertWorkload(
    wl({
      services: {
        'kube-system/kube-dns.kube-system.svc.cluster.local': {
          ports: [
            { servicePort: 53, targetPort: 53 },
            { servicePort: 53, targetPort: 53 },
            { servicePort: 9153, targetPort: 9153 },
          ],
        },
      },
    }),
  );
  assert.ok(r.ok);
  assert.deepEqual(r.value.services['kube-system/kube-dns.kube-system.svc.cluster.local'], [
    { servicePort: 53, targetPort: 53 },
    { servicePort: 9153, targetPort: 9153 },
  ]);
});

test('convertWorkload refuses bad messages with a reason naming the field', () => {
  const cases: [string, Init, RegExp][] = [
    ['missing uid', { uid: '' }, /^uid: is required$/],
    [
      'missing namespace',
      { namespace: '' },
      /^workload "Kubernetes\/\/Pod\/default\/web-1": namespace: is required$/,
    ],
    [
      'bad IP bytes',
      { addresses: [ipToBytes('10.0.0.1')!, new Uint8Array([10, 0, 0])] },
      /addresses\[1\]: 3 bytes; an IP address has 4 \(IPv4\) or 16 \(IPv6\)/,
    ],
    [
      'unknown tunnel protocol',
      { tunnelProtocol: unknown(9) },
      /tunnel_protocol: unknown value 9; known: 0, 1/,
    ],
    ['legacy mTLS', { tunnelProtocol: 2 }, /tunnel_protocol: LEGACY_ISTIO_MTLS is not supported/],
    ['unknown status', { status: unknown(5) }, /status: unknown value 5/],
    ['unknown network mode', { networkMode: unknown(7) }, /network_mode: unknown value 7/],
    ['unknown workload type', { workloadType: unknown(8) }, /workload_type: unknown value 8/],
    [
      'service key without a slash',
      { services: { web: { ports: [] } } },
      /services\["web"\]: key must be "<namespace>\/<hostname>"/,
    ],
    [
      'service port 0',
      { services: { 'default/web': { ports: [{ servicePort: 0, targetPort: 80 }] } } },
      /services\["default\/web"\].ports\[0\].service_port: port 0 is outside 1-65535/,
    ],
    [
      'target port too large',
      { services: { 'default/web': { ports: [{ servicePort: 80, targetPort: 70000 }] } } },
      /ports\[0\].target_port: port 70000 is outside 0-65535/,
    ],
    [
      'service port listed twice with different targets',
      {
        services: {
          'default/web': {
            ports: [
              { servicePort: 80, targetPort: 8080 },
              { servicePort: 80, targetPort: 9090 },
            ],
          },
        },
      },
      /ports\[1\].service_port: port 80 is listed twice with different target ports \(8080 and 9090\)/,
    ],
    ['waypoint without destination', { waypoint: {} }, /waypoint: destination is missing/],
    [
      'waypoint with bad address',
      { waypoint: { destination: { case: 'address', value: { address: new Uint8Array(5) } } } },
      /waypoint.address.address: 5 bytes/,
    ],
    [
      'waypoint hostname without namespace',
      { waypoint: { destination: { case: 'hostname', value: { hostname: 'wp' } } } },
      /waypoint.hostname.namespace: is required/,
    ],
    [
      'unknown application tunnel protocol',
      { applicationTunnel: { protocol: unknown(4) } },
      /application_tunnel.protocol: unknown value 4/,
    ],
  ];
  for (const [name, init, want] of cases) {
    const r = convertWorkload(wl(init));
    assert.equal(r.ok, false, name);
    assert.match(r.ok ? '' : r.reason, want, name);
  }
});

test('convertAddress dispatches on the oneof and refuses an empty Address', () => {
  const w = convertAddress(create(AddressSchema, { type: { case: 'workload', value: wl() } }));
  assert.ok(w.ok && w.value.kind === 'workload');
  assert.equal(w.value.workload.uid, 'Kubernetes//Pod/default/web-1');
  const s = convertAddress(
    create(AddressSchema, {
      type: { case: 'service', value: { namespace: 'default', hostname: 'web' } },
    }),
  );
  assert.ok(s.ok && s.value.kind === 'service');
  const bad = convertAddress(
    create(AddressSchema, { type: { case: 'service', value: { namespace: 'default' } } }),
  );
  assert.deepEqual(bad, { ok: false, reason: 'hostname: is required' });
  assert.deepEqual(convertAddress(create(AddressSchema)), {
    ok: false,
    reason: 'address has neither a workload nor a service',
  });
});

test('an enum number from the wire that the schema lacks is refused, not mistaken for a default', () => {
  const bytes = toBinary(WorkloadSchema, wl({ tunnelProtocol: unknown(9) }));
  const r = convertWorkload(fromBinary(WorkloadSchema, bytes));
  assert.equal(
    r.ok ? '' : r.reason,
    'workload "Kubernetes//Pod/default/web-1": tunnel_protocol: unknown value 9; known: 0, 1',
  );
});
