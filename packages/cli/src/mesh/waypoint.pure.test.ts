import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWaypoint, waypointGateway, waypointRow } from './waypoint.pure.js';

test('a waypoint is a trellis-waypoint Gateway with the mesh listener on 15008 (HBONE)', () => {
  assert.deepEqual(waypointGateway('wp', 'shop', 'all'), {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'wp', namespace: 'shop', labels: { 'istio.io/waypoint-for': 'all' } },
    spec: {
      gatewayClassName: 'trellis-waypoint',
      listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }],
    },
  });
  assert.throws(
    () => waypointGateway('Bad_Name', 'shop', 'service'),
    /waypoint name "Bad_Name" is not a DNS-1123 label/,
  );
  assert.ok(isWaypoint({ spec: { gatewayClassName: 'istio-waypoint' } }));
  assert.ok(!isWaypoint({ spec: { gatewayClassName: 'nginx' } }));
});

test('list rows show whether the control plane programmed it, and why not', () => {
  const gw = waypointGateway('wp', 'shop', 'service');
  assert.equal(waypointRow(gw).message, 'no status yet (is the control plane running?)');
  const programmed = {
    ...gw,
    status: {
      addresses: [{ value: 'waypoint.shop.svc.cluster.local' }],
      conditions: [{ type: 'Programmed', status: 'True' }],
    },
  };
  assert.deepEqual(waypointRow(programmed), {
    namespace: 'shop',
    name: 'wp',
    for: 'service',
    programmed: 'True',
    address: 'waypoint.shop.svc.cluster.local',
    message: '',
  });
});
