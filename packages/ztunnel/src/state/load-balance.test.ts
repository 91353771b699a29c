import assert from 'node:assert/strict';
import { test } from 'node:test';
import { service, workload } from '../test-support/fixtures.js';
import { pickEndpoint, type Endpoint, type EndpointPick } from './load-balance.js';
import type { LoadBalancing, Workload } from './model.js';

const SVC = service({
  hostname: 'web.default.svc.cluster.local',
  ports: [
    { servicePort: 80, targetPort: 8080, appProtocol: 'HTTP11' },
    { servicePort: 9090, targetPort: 0, appProtocol: 'TCP' }, // named target port: per endpoint
  ],
});

function ep(uid: string, fields: Partial<Workload> = {}, ports: Endpoint['ports'] = []): Endpoint {
  return { workload: workload({ uid, addresses: [`10.0.0.${uid.length}`], ...fields }), ports };
}

function chosen(pick: EndpointPick): string {
  return pick.kind === 'endpoint'
    ? `${pick.workload.uid}@${pick.address}:${pick.port}`
    : pick.kind === 'none'
      ? `none: ${pick.reason}`
      : pick.kind;
}

/** Which endpoints each random value in [0, 1) picks, over a fine grid. */
function spread(eps: Endpoint[], port: number, opts = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < 100; i++) {
    const pick = pickEndpoint(SVC, port, eps, { ...opts, random: () => i / 100 });
    const key = pick.kind === 'endpoint' ? pick.workload.uid : pick.kind;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

test('picks only healthy endpoints, weighted by capacity', () => {
  const eps = [
    ep('a'),
    ep('bb', { capacity: 3 }),
    ep('ccc', { status: 'Unhealthy' }),
    ep('dddd', { capacity: 0 }),
  ];
  assert.deepEqual(spread(eps, 80), { a: 25, bb: 75 });
});

test('ALLOW_ALL health policy includes unhealthy endpoints', () => {
  const lb: LoadBalancing = { routingPreference: [], mode: 'Standard', healthPolicy: 'AllowAll' };
  const pick = pickEndpoint({ ...SVC, loadBalancing: lb }, 80, [ep('a', { status: 'Unhealthy' })], {
    random: () => 0,
  });
  assert.equal(chosen(pick), 'a@10.0.0.1:8080');
});

test('target port: the endpoint mapping, else the service target port', () => {
  const eps = [ep('a', {}, [{ servicePort: 80, targetPort: 3000 }]), ep('bb')];
  assert.equal(chosen(pickEndpoint(SVC, 80, eps, { random: () => 0 })), 'a@10.0.0.1:3000');
  assert.equal(chosen(pickEndpoint(SVC, 80, eps, { random: () => 0.9 })), 'bb@10.0.0.2:8080');
});

test('a named target port (0 on the service) needs the endpoint to map it', () => {
  const eps = [ep('a'), ep('bb', {}, [{ servicePort: 9090, targetPort: 9999 }])];
  assert.deepEqual(spread(eps, 9090), { bb: 100 });
  assert.equal(
    chosen(pickEndpoint(SVC, 9090, [ep('a')])),
    'none: service default/web.default.svc.cluster.local has no healthy endpoint for port 9090',
  );
});

test('a port the service does not have, no endpoints, or only addressless endpoints: none, with the reason', () => {
  assert.equal(
    chosen(pickEndpoint(SVC, 81, [ep('a')])),
    'none: service default/web.default.svc.cluster.local has no port 81',
  );
  assert.equal(
    chosen(pickEndpoint(SVC, 80, [])),
    'none: service default/web.default.svc.cluster.local has no healthy endpoint for port 80',
  );
  assert.equal(
    chosen(pickEndpoint(SVC, 80, [ep('a', { addresses: [], hostname: 'a.example' })])),
    'none: service default/web.default.svc.cluster.local has no healthy endpoint for port 80',
  );
});

test('PASSTHROUGH services do no endpoint selection', () => {
  const lb: LoadBalancing = {
    routingPreference: [],
    mode: 'Passthrough',
    healthPolicy: 'OnlyHealthy',
  };
  assert.equal(pickEndpoint({ ...SVC, loadBalancing: lb }, 80, [ep('a')]).kind, 'passthrough');
});

test('waypoint picking accepts a port outside the service when the endpoint has an application tunnel', () => {
  const tunnel = ep('a', { applicationTunnel: { protocol: 'NONE', port: 15088 } });
  assert.equal(
    chosen(pickEndpoint(SVC, 15008, [tunnel, ep('bb')], { waypoint: true, random: () => 0.99 })),
    'a@10.0.0.1:15008',
  );
  assert.equal(
    chosen(pickEndpoint(SVC, 15008, [tunnel], {})),
    'none: service default/web.default.svc.cluster.local has no port 15008',
  );
});

test('FAILOVER prefers the endpoints sharing the most routing preferences with the source, in order', () => {
  const lb: LoadBalancing = {
    routingPreference: ['REGION', 'ZONE'],
    mode: 'Failover',
    healthPolicy: 'OnlyHealthy',
  };
  const svc = { ...SVC, loadBalancing: lb };
  const at = (region: string, zone: string) => ({ locality: { region, zone, subzone: '' } });
  const src = workload({ uid: 'src', ...at('r1', 'z1') });
  const sameZone = ep('a', at('r1', 'z1'));
  const sameRegion = ep('bb', at('r1', 'z2'));
  const far = ep('ccc', at('r2', 'z1'));
  const pick = (eps: Endpoint[]) => {
    const out = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const p = pickEndpoint(svc, 80, eps, { source: src, random: () => i / 10 });
      out.add(p.kind === 'endpoint' ? p.workload.uid : p.kind);
    }
    return [...out].sort();
  };
  assert.deepEqual(pick([sameZone, sameRegion, far]), ['a']);
  assert.deepEqual(pick([sameRegion, far]), ['bb']);
  assert.deepEqual(pick([far]), ['ccc'], 'failover still uses a far endpoint');
  assert.deepEqual(
    pick([far, ep('dddd', at('r2', 'z9'))]),
    ['ccc', 'dddd'],
    'zone only counts after the region matched',
  );

  const strict = { ...svc, loadBalancing: { ...lb, mode: 'Strict' as const } };
  assert.equal(
    pickEndpoint(strict, 80, [sameRegion, far], { source: src }).kind,
    'none',
    'strict needs every preference',
  );
  assert.equal(
    chosen(pickEndpoint(strict, 80, [sameRegion, sameZone], { source: src, random: () => 0.99 })),
    'a@10.0.0.1:8080',
  );
});

test('a leading NETWORK preference outranks every other match', () => {
  const lb: LoadBalancing = {
    routingPreference: ['NETWORK', 'REGION'],
    mode: 'Failover',
    healthPolicy: 'OnlyHealthy',
  };
  const svc = { ...SVC, loadBalancing: lb };
  const src = workload({
    uid: 'src',
    network: 'n1',
    locality: { region: 'r1', zone: '', subzone: '' },
  });
  const sameNetOtherRegion = ep('a', {
    network: 'n1',
    locality: { region: 'r2', zone: '', subzone: '' },
  });
  const otherNetSameRegion = ep('bb', {
    network: 'n2',
    locality: { region: 'r1', zone: '', subzone: '' },
  });
  for (const r of [0, 0.5, 0.99]) {
    assert.equal(
      chosen(
        pickEndpoint(svc, 80, [sameNetOtherRegion, otherNetSameRegion], {
          source: src,
          random: () => r,
        }),
      ),
      'a@10.0.0.1:8080',
    );
  }
});
