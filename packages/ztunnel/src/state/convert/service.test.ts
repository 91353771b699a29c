import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import {
  ServiceSchema,
  type Service as XdsService,
} from '@trellis/api/gen/istio/workload/workload_pb.js';
import { ipToBytes } from '../../net/ip.js';
import { convertService } from './service.js';

/** An enum number the schema does not define, as a decoder delivers it. */
const unknown = (n: number) => n as never;

type Init = Parameters<typeof create<typeof ServiceSchema>>[1];

function svc(init: Init = {}): XdsService {
  return create(ServiceSchema, {
    name: 'web',
    namespace: 'default',
    hostname: 'web.default.svc.cluster.local',
    addresses: [{ network: '', address: ipToBytes('10.96.0.10')! }],
    ports: [{ servicePort: 80, targetPort: 8080, appProtocol: 1 }],
    ...init,
  });
}

test('convertService turns a message into the model', () => {
  const r = convertService(
    svc({
      addresses: [
        { network: '', address: ipToBytes('10.96.0.10')! },
        { network: 'net-b', address: ipToBytes('fd00::10')!, length: 128 },
        { network: '', address: ipToBytes('240.240.0.0')!, length: 16 },
        { network: '', address: ipToBytes('::ffff:10.97.0.0')!, length: 112 },
      ],
      subjectAltNames: ['spiffe://cluster.local/ns/default/sa/web'],
      waypoint: {
        destination: { case: 'address', value: { network: '', address: ipToBytes('10.0.9.9')! } },
        hboneMtlsPort: 15009,
      },
      weightedWaypoints: [
        {
          destination: {
            destination: { case: 'hostname', value: { namespace: 'a', hostname: 'wp' } },
          },
          weight: 3,
        },
      ],
      loadBalancing: { routingPreference: [6, 1], mode: 2, healthPolicy: 1 },
      ipFamilies: 3,
      canonical: true,
      visibility: 1,
    }),
  );
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.value, {
    name: 'web',
    namespace: 'default',
    hostname: 'web.default.svc.cluster.local',
    vips: [
      { network: '', address: '10.96.0.10' },
      { network: 'net-b', address: 'fd00::10' },
    ],
    cidrVips: [
      { network: '', address: '240.240.0.0', prefixLength: 16 },
      { network: '', address: '10.97.0.0', prefixLength: 16 },
    ],
    ports: [{ servicePort: 80, targetPort: 8080, appProtocol: 'HTTP11' }],
    subjectAltNames: ['spiffe://cluster.local/ns/default/sa/web'],
    waypoint: {
      destination: { kind: 'address', network: '', address: '10.0.9.9' },
      hbonePort: 15009,
    },
    weightedWaypoints: [
      {
        destination: {
          destination: { kind: 'hostname', namespace: 'a', hostname: 'wp' },
          hbonePort: 15008,
        },
        weight: 3,
      },
    ],
    loadBalancing: {
      routingPreference: ['NETWORK', 'REGION'],
      mode: 'Failover',
      healthPolicy: 'AllowAll',
    },
    ipFamilies: 'Dual',
    canonical: true,
    ingressUseWaypoint: false,
    visibility: 'Namespace',
  });
});

test('a port listed once per protocol (53/UDP, 53/TCP) is one port; two targets are refused', () => {
  const r = convertService(
    svc({
      ports: [
        { servicePort: 53, targetPort: 53 },
        { servicePort: 53, targetPort: 53 },
        { servicePort: 9153, targetPort: 9153, appProtocol: 1 },
      ],
    }),
  );
  assert.ok(r.ok);
  assert.deepEqual(r.value.ports, [
    { servicePort: 53, targetPort: 53, appProtocol: 'UNKNOWN' },
    { servicePort: 9153, targetPort: 9153, appProtocol: 'HTTP11' },
  ]);
  const two = convertService(
    svc({
      ports: [
        { servicePort: 53, targetPort: 53 },
        { servicePort: 53, targetPort: 5353 },
      ],
    }),
  );
  assert.ok(!two.ok);
  assert.match(
    two.reason,
    /ports\[1\].service_port: port 53 is listed twice with different target ports \(53 and 5353\)/,
  );
});

test('convertService refuses bad messages with a reason naming the field', () => {
  const where = 'service "default/web.default.svc.cluster.local"';
  const cases: [string, Init, string | RegExp][] = [
    ['missing namespace', { namespace: '' }, 'namespace: is required'],
    ['missing hostname', { hostname: '' }, 'hostname: is required'],
    [
      'bad VIP bytes',
      { addresses: [{ address: new Uint8Array(2) }] },
      `${where}: addresses[0].address: 2 bytes; an IP address has 4 (IPv4) or 16 (IPv6)`,
    ],
    [
      'VIP prefix too long',
      { addresses: [{ address: ipToBytes('10.0.0.0')!, length: 33 }] },
      `${where}: addresses[0].length: prefix length 33 is above 32`,
    ],
    [
      'port 0',
      { ports: [{ servicePort: 0 }] },
      `${where}: ports[0].service_port: port 0 is outside 1-65535`,
    ],
    [
      'unknown app protocol',
      { ports: [{ servicePort: 80, appProtocol: unknown(42) }] },
      /ports\[0\].app_protocol: unknown value 42/,
    ],
    [
      'unspecified routing preference',
      { loadBalancing: { routingPreference: [0] } },
      /load_balancing.routing_preference\[0\]: unknown value 0/,
    ],
    [
      'unknown lb mode',
      { loadBalancing: { mode: unknown(9) } },
      /load_balancing.mode: unknown value 9/,
    ],
    [
      'unknown health policy',
      { loadBalancing: { healthPolicy: unknown(9) } },
      /load_balancing.health_policy: unknown value 9/,
    ],
    ['unknown ip families', { ipFamilies: unknown(9) }, /ip_families: unknown value 9/],
    [
      'weighted waypoint without destination',
      { weightedWaypoints: [{ weight: 1 }] },
      /weighted_waypoints\[0\].destination: is required/,
    ],
    [
      'waypoint port too large',
      {
        waypoint: {
          destination: { case: 'hostname', value: { namespace: 'a', hostname: 'b' } },
          hboneMtlsPort: 70000,
        },
      },
      /waypoint.hbone_mtls_port: port 70000/,
    ],
  ];
  for (const [name, init, want] of cases) {
    const r = convertService(svc(init));
    assert.equal(r.ok, false, name);
    if (typeof want === 'string') assert.equal(r.ok ? '' : r.reason, want, name);
    else assert.match(r.ok ? '' : r.reason, want, name);
  }
});

test('an unknown visibility falls back to public', () => {
  const r = convertService(svc({ visibility: unknown(7) }));
  assert.ok(r.ok);
  assert.equal(r.value.visibility, 'Public');
});
