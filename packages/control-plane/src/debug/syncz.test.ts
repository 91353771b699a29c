// /debug/syncz: the sync state a user reads per proxy and type.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionDebug, TypeDebug } from '@trellis/xds';
import { syncState, syncz } from './syncz.js';

const type = (over: Partial<TypeDebug>): TypeDebug => ({
  typeUrl: 'type.googleapis.com/istio.workload.Address',
  subscribed: ['*'],
  sentVersion: undefined,
  sentNonce: undefined,
  ackedVersion: undefined,
  ackedNonce: undefined,
  awaitingAck: false,
  pending: false,
  resources: 0,
  responses: 0,
  nacks: 0,
  lastError: undefined,
  retained: [],
  ...over,
});

test('sync states', () => {
  const cases: [Partial<TypeDebug>, string][] = [
    [{}, 'NOT SENT'],
    [{ sentNonce: 'n1', sentVersion: '1', awaitingAck: true }, 'STALE'],
    [{ sentNonce: 'n1', sentVersion: '1', ackedNonce: 'n1', ackedVersion: '1' }, 'SYNCED'],
    [
      { sentNonce: 'n1', sentVersion: '1', ackedNonce: 'n1', ackedVersion: '1', pending: true },
      'STALE',
    ],
    [
      {
        sentNonce: 'n2',
        sentVersion: '2',
        ackedNonce: 'n1',
        ackedVersion: '1',
        nacks: 1,
        lastError: 'bad',
      },
      'NACKED',
    ],
  ];
  for (const [over, expected] of cases)
    assert.equal(syncState(type(over)), expected, JSON.stringify(over));
});

test('entries are keyed by short type name and carry versions and NACKs', () => {
  const conn: ConnectionDebug = {
    connectionId: 'ztunnel~1.2.3.4~z.ns~ns.svc.cluster.local-1',
    proxyId: 'ztunnel~1.2.3.4~z.ns~ns.svc.cluster.local',
    peer: '127.0.0.1:5000',
    protocol: 'delta',
    connectedAt: '2026-11-01T00:00:00.000Z',
    types: [
      type({
        sentNonce: 'n2',
        sentVersion: '2',
        ackedNonce: 'n1',
        ackedVersion: '1',
        nacks: 1,
        lastError: 'bad address',
      }),
      type({
        typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener',
        sentNonce: 'a',
        sentVersion: '3',
        ackedNonce: 'a',
        ackedVersion: '3',
      }),
    ],
  };
  const [entry] = syncz([conn]);
  assert.equal(entry!.proxy, conn.proxyId);
  assert.deepEqual(Object.keys(entry!.types), ['address', 'lds']);
  assert.equal(entry!.types['address']!.state, 'NACKED');
  assert.equal(entry!.types['address']!.lastNack, 'bad address');
  assert.equal(entry!.types['lds']!.ackedVersion, '3');
});
