// The WDS client against a real xDS server (packages/xds) over a delta stream on 127.0.0.1: the
// store fills atomically, readiness waits for both types, a bad resource is NACKed with its reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, packAny } from '@trellis/api';
import { AuthorizationSchema } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { AddressSchema } from '@trellis/api/gen/istio/workload/workload_pb.js';
import {
  addAdsService,
  createXdsServer,
  resourceSnapshotGenerator,
  type ResourceSnapshot,
} from '@trellis/xds';
import type { Any } from '@bufbuild/protobuf/wkt';
import { ipToBytes } from '../net/ip.js';
import { StateStore } from '../state/store.js';
import { eventually } from '@trellis/core/test-support';
import { startXdsSource, ztunnelNodeId } from './xds-source.js';

const WEB = 'Kubernetes//Pod/default/web-1';
const web = packAny(
  AddressSchema,
  create(AddressSchema, {
    type: {
      case: 'workload',
      value: { uid: WEB, name: 'web-1', namespace: 'default', addresses: [ipToBytes('10.0.0.1')!] },
    },
  }),
);
const svc = packAny(
  AddressSchema,
  create(AddressSchema, {
    type: {
      case: 'service',
      value: {
        namespace: 'default',
        hostname: 'web.default.svc.cluster.local',
        addresses: [{ network: '', address: ipToBytes('10.96.0.1')! }],
      },
    },
  }),
);
const allow = packAny(
  AuthorizationSchema,
  create(AuthorizationSchema, { name: 'allow', namespace: 'default' }),
);
const broken = packAny(
  AuthorizationSchema,
  create(AuthorizationSchema, {
    name: 'broken',
    namespace: 'default',
    rules: [{ clauses: [{ matches: [{ principals: [{}] }] }] }],
  }),
);

function snapshot(addresses: Record<string, Any>, policies: Record<string, Any>): ResourceSnapshot {
  return new Map([
    [ADDRESS_TYPE_URL, new Map(Object.entries(addresses))],
    [AUTHORIZATION_TYPE_URL, new Map(Object.entries(policies))],
  ]);
}

async function serve(t: test.TestContext, initial: ResourceSnapshot) {
  const xds = createXdsServer<ResourceSnapshot>({
    generators: {
      [ADDRESS_TYPE_URL]: resourceSnapshotGenerator,
      [AUTHORIZATION_TYPE_URL]: resourceSnapshotGenerator,
    },
    snapshot: initial,
    debounce: { quietMs: 1, maxDelayMs: 10 },
  });
  const grpc = new Server();
  addAdsService(grpc, xds);
  const port = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  t.after(async () => {
    await xds.close(0);
    grpc.forceShutdown();
  });
  return { xds, address: `127.0.0.1:${port}` };
}

test('node id has the shape the control plane parses', () => {
  assert.equal(
    ztunnelNodeId({ ip: '10.1.2.3', podName: 'ztunnel-x', podNamespace: 'istio-system' }),
    'ztunnel~10.1.2.3~ztunnel-x.istio-system~istio-system.svc.cluster.local',
  );
});

test('WDS fills the store, then removals and a NACK with the converter reason', async (t) => {
  const { xds, address } = await serve(
    t,
    snapshot(
      { [WEB]: web, 'default/web.default.svc.cluster.local': svc },
      { 'default/allow': allow },
    ),
  );
  const store = new StateStore();
  const source = startXdsSource({
    address,
    credentials: credentials.createInsecure(),
    nodeId: ztunnelNodeId({ ip: '10.0.0.9', podName: 'ztunnel-1', podNamespace: 'istio-system' }),
    store,
  });
  t.after(() => source.close());
  await source.synced;
  assert.equal(store.workloadByAddr('10.0.0.1')?.uid, WEB);
  assert.equal(store.serviceByVip('10.96.0.1')?.hostname, 'web.default.svc.cluster.local');
  assert.deepEqual(
    store.policies().map((p) => p.name),
    ['allow'],
  );

  // The workload goes; a broken policy arrives with a good one: the whole response is refused.
  xds.update({
    snapshot: snapshot(
      { 'default/web.default.svc.cluster.local': svc },
      { 'default/allow': allow, 'default/broken': broken },
    ),
  });
  await eventually('workload removal', () => store.workloadByUid(WEB) === undefined);
  const nack = await eventually('NACK', () => {
    for (const c of xds.debug()) {
      const d = c.types.find((x) => x.typeUrl === AUTHORIZATION_TYPE_URL);
      if (d?.lastError) return d.lastError;
    }
    return undefined;
  });
  assert.match(nack, /default\/broken.*principals\[0\]: no match type set/);
  assert.deepEqual(
    store.policies().map((p) => p.name),
    ['allow'],
  );
});
