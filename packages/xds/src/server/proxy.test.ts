import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIstioNodeId } from './proxy.js';

test('parses a ztunnel node id', () => {
  assert.deepEqual(
    parseIstioNodeId('ztunnel~10.0.0.5~ztunnel-x7k2p.istio-system~istio-system.svc.cluster.local'),
    {
      type: 'ztunnel',
      ip: '10.0.0.5',
      id: 'ztunnel-x7k2p.istio-system',
      domain: 'istio-system.svc.cluster.local',
      namespace: 'istio-system',
      podName: 'ztunnel-x7k2p',
    },
  );
});

test('other node ids are not parsed', () => {
  assert.equal(parseIstioNodeId('my-grpc-client'), undefined);
  assert.equal(parseIstioNodeId('a~b~c'), undefined);
  assert.equal(parseIstioNodeId('a~~c~d'), undefined);
});
