// The store's per-connection indexes (pick plans kept per service and port, VIP ranges by prefix
// length) against the plain computation they replace, over random sequences of changes: after
// every apply, each pick equals the pure pickEndpoint over freshly gathered endpoints, and each VIP
// lookup equals a scan of every service's ranges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrContains } from '@trellis/core';
import fc from 'fast-check';
import { cidr, service, workload } from '../test-support/fixtures.js';
import { pickEndpoint, type Endpoint } from './load-balance.js';
import { serviceKey, type Service, type Workload } from './model.js';
import { StateStore } from './store.js';

const KEYS = ['default/a.svc', 'default/b.svc', 'other/c.svc'] as const;
const PORTS = [80, 8080, 9090];
const RANDOMS = [0, 0.13, 0.5, 0.77, 0.999];

const arbService = fc.record({
  key: fc.constantFrom(...KEYS),
  ports: fc.subarray([
    { servicePort: 80, targetPort: 8080, appProtocol: 'TCP' as const },
    { servicePort: 9090, targetPort: 0, appProtocol: 'TCP' as const },
  ]),
  mode: fc.constantFrom('Standard', 'Passthrough', 'Failover') as fc.Arbitrary<
    'Standard' | 'Passthrough' | 'Failover'
  >,
  allowAll: fc.boolean(),
  ranges: fc.subarray(['10.96.0.0/16', '10.96.4.0/24', '10.0.0.0/8', 'fd00::/64']),
  canonical: fc.boolean(),
});

const arbWorkload = fc.record({
  uid: fc.constantFrom('w1', 'w2', 'w3', 'w4', 'w5'),
  healthy: fc.boolean(),
  capacity: fc.nat(3),
  zone: fc.constantFrom('z1', 'z2'),
  services: fc.subarray([...KEYS]),
  mapped: fc.boolean(),
});

type Of<A> = A extends fc.Arbitrary<infer T> ? T : never;
type ServiceSpec = Of<typeof arbService>;
type WorkloadSpec = Of<typeof arbWorkload>;

type Step =
  | { op: 'svc'; s: ServiceSpec }
  | { op: 'wl'; w: WorkloadSpec }
  | { op: 'rm-svc'; key: string }
  | { op: 'rm-wl'; uid: string };

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  arbService.map((s) => ({ op: 'svc' as const, s })),
  arbWorkload.map((w) => ({ op: 'wl' as const, w })),
  fc.constantFrom(...KEYS).map((key) => ({ op: 'rm-svc' as const, key })),
  fc.constantFrom('w1', 'w2', 'w3').map((uid) => ({ op: 'rm-wl' as const, uid })),
);

function toService(s: ServiceSpec): Service {
  const [namespace, hostname] = s.key.split('/') as [string, string];
  return service({
    namespace,
    hostname,
    ports: s.ports,
    canonical: s.canonical,
    cidrVips: s.ranges.map((r) => ({ network: '', ...cidr(r) })),
    loadBalancing: {
      mode: s.mode,
      healthPolicy: s.allowAll ? 'AllowAll' : 'OnlyHealthy',
      routingPreference: ['ZONE'],
    },
  });
}

function toWorkload(w: WorkloadSpec, i: number): Workload {
  return workload({
    uid: w.uid,
    addresses: [`10.1.0.${i % 250}`],
    status: w.healthy ? 'Healthy' : 'Unhealthy',
    capacity: w.capacity,
    locality: { region: 'r', zone: w.zone, subzone: '' },
    services: Object.fromEntries(
      w.services.map((k) => [k, w.mapped ? [{ servicePort: 9090, targetPort: 7000 }] : []]),
    ),
  });
}

/** The endpoints of `key` gathered the plain way: every workload naming it, sorted by uid. */
function plainEndpoints(store: StateStore, key: string): Endpoint[] {
  return store
    .workloads()
    .filter((w) => w.services[key] !== undefined)
    .map((w) => ({ workload: w, ports: w.services[key]! }));
}

/** The services a VIP-range lookup may answer: every best-scoring one (ties go to the first applied). */
function plainRangeLookup(store: StateStore, ip: string): Service[] {
  let best: Service[] = [];
  let bestScore = -1;
  for (const s of store.services())
    for (const r of s.cidrVips)
      if (cidrContains(r, ip)) {
        const score = r.prefixLength * 2 + (s.canonical ? 1 : 0);
        if (score > bestScore) [best, bestScore] = [[s], score];
        else if (score === bestScore && !best.includes(s)) best.push(s);
      }
  return best;
}

test('property: indexed picks and VIP-range lookups equal the plain computation after any changes', () => {
  let r = 0;
  fc.assert(
    fc.property(fc.array(arbStep, { minLength: 1, maxLength: 25 }), (steps) => {
      const store = new StateStore({ random: () => r });
      const source = workload({ uid: 'src', locality: { region: 'r', zone: 'z1', subzone: '' } });
      steps.forEach((step, i) => {
        if (step.op === 'svc') store.apply({ upsertServices: [toService(step.s)] });
        else if (step.op === 'wl') store.apply({ upsertWorkloads: [toWorkload(step.w, i)] });
        else if (step.op === 'rm-svc') store.apply({ removeServices: [step.key] });
        else store.apply({ removeWorkloads: [step.uid] });
        for (const s of store.services()) {
          const eps = plainEndpoints(store, serviceKey(s));
          assert.deepEqual(store.endpointsOf(s), eps);
          for (const port of PORTS)
            for (const value of RANDOMS) {
              r = value;
              for (const opts of [{}, { source }, { waypoint: true }]) {
                const want = pickEndpoint(s, port, eps, { ...opts, random: () => value });
                assert.deepEqual(store.pickEndpoint(s, port, opts), want);
              }
            }
        }
        for (const ip of ['10.96.4.9', '10.96.200.1', '10.7.7.7', '11.0.0.1', 'fd00::9']) {
          const allowed = plainRangeLookup(store, ip);
          const found = store.serviceByVip(ip);
          if (allowed.length === 0) assert.equal(found, undefined, ip);
          else assert.ok(found && allowed.includes(found), ip);
        }
      });
    }),
    { seed: 7, numRuns: 150 },
  );
});
