// Field numbers of istio.workload messages, checked against hand-encoded bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AddressSchema,
  AppProtocol,
  TunnelProtocol,
  WorkloadSchema,
  WorkloadStatus,
} from './gen/istio/workload/workload_pb.js';
import { bytes, lenField, str, vint } from './test-support/wire.js';

const IPV4 = [10, 244, 1, 7];
const IPV6 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];

test('Workload: uid=20, addresses=3, service_account=7, trust_domain=6, tunnel_protocol=5, status=17', () => {
  const wire = bytes(
    str(20, 'Kubernetes//Pod/default/web-0'),
    str(1, 'web-0'),
    str(2, 'default'),
    lenField(3, IPV4),
    lenField(3, IPV6),
    vint(5, 1),
    str(6, 'cluster.local'),
    str(7, 'web'),
    str(9, 'node-a'),
    vint(17, 1),
    str(18, 'Kubernetes'),
  );
  const w = fromBinary(WorkloadSchema, wire);
  assert.equal(w.uid, 'Kubernetes//Pod/default/web-0');
  assert.equal(w.name, 'web-0');
  assert.equal(w.namespace, 'default');
  assert.deepEqual(
    w.addresses.map((a) => [...a]),
    [IPV4, IPV6],
  );
  assert.equal(w.tunnelProtocol, TunnelProtocol.HBONE);
  assert.equal(w.trustDomain, 'cluster.local');
  assert.equal(w.serviceAccount, 'web');
  assert.equal(w.node, 'node-a');
  assert.equal(w.status, WorkloadStatus.UNHEALTHY);
  assert.equal(w.clusterId, 'Kubernetes');
  assert.deepEqual(w.$unknown ?? [], [], 'every hand-encoded field is a known field');
});

test('Workload encodes uid with tag 20 and service_account with tag 7', () => {
  const w = create(WorkloadSchema, { uid: 'u', serviceAccount: 'sa' });
  assert.deepEqual([...toBinary(WorkloadSchema, w)], [...str(7, 'sa'), ...str(20, 'u')]);
});

test('Workload.services (22) maps "<ns>/<hostname>" to PortList(ports=1{service_port=1,target_port=2,app_protocol=3})', () => {
  const port = [...vint(1, 80), ...vint(2, 8080), ...vint(3, 2)];
  const entry = [
    ...str(1, 'default/web.default.svc.cluster.local'),
    ...lenField(2, lenField(1, port)),
  ];
  const w = fromBinary(WorkloadSchema, bytes(lenField(22, entry)));
  const ports = w.services['default/web.default.svc.cluster.local']?.ports;
  assert.equal(ports?.length, 1);
  assert.equal(ports[0]?.servicePort, 80);
  assert.equal(ports[0]?.targetPort, 8080);
  assert.equal(ports[0]?.appProtocol, AppProtocol.HTTP2);
});

test('Workload.waypoint (8) is a GatewayAddress: hostname=1 {namespace=1, hostname=2}, hbone_mtls_port=3', () => {
  const gw = [
    ...lenField(1, [...str(1, 'default'), ...str(2, 'waypoint.default.svc.cluster.local')]),
    ...vint(3, 15008),
  ];
  const w = fromBinary(WorkloadSchema, bytes(lenField(8, gw)));
  assert.equal(w.waypoint?.destination.case, 'hostname');
  assert.equal(w.waypoint.destination.value.hostname, 'waypoint.default.svc.cluster.local');
  assert.equal(w.waypoint.destination.value.namespace, 'default');
  assert.equal(w.waypoint.hboneMtlsPort, 15008);
});

test('Address oneof: workload is field 1, service is field 2', () => {
  const asWorkload = fromBinary(AddressSchema, bytes(lenField(1, str(20, 'uid-1'))));
  assert.equal(asWorkload.type.case, 'workload');
  assert.equal(asWorkload.type.value.uid, 'uid-1');

  const asService = fromBinary(
    AddressSchema,
    bytes(lenField(2, [...str(1, 'web'), ...str(3, 'web.default.svc.cluster.local')])),
  );
  assert.equal(asService.type.case, 'service');
  assert.equal(asService.type.value.name, 'web');
  assert.equal(asService.type.value.hostname, 'web.default.svc.cluster.local');
});

test('Service: addresses=4 are NetworkAddress{network=1, address=2}, ports=5, waypoint=7', () => {
  const svc = [
    ...str(2, 'default'),
    ...lenField(4, [...str(1, 'net-1'), ...lenField(2, [10, 96, 0, 10])]),
    ...lenField(5, [...vint(1, 443), ...vint(2, 8443)]),
    ...lenField(7, [
      ...lenField(2, [...str(1, ''), ...lenField(2, [10, 0, 0, 9])]),
      ...vint(3, 15008),
    ]),
  ];
  const a = fromBinary(AddressSchema, bytes(lenField(2, svc)));
  assert.equal(a.type.case, 'service');
  const s = a.type.value;
  assert.equal(s.namespace, 'default');
  assert.equal(s.addresses[0]?.network, 'net-1');
  assert.deepEqual([...(s.addresses[0]?.address ?? [])], [10, 96, 0, 10]);
  assert.equal(s.ports[0]?.servicePort, 443);
  assert.equal(s.ports[0]?.targetPort, 8443);
  assert.equal(s.waypoint?.destination.case, 'address');
  assert.deepEqual([...s.waypoint.destination.value.address], [10, 0, 0, 9]);
  assert.equal(s.waypoint.hboneMtlsPort, 15008);
});
