// Endpoint picking and outlier detection without sockets: weights, least request, ring hash and
// Maglev stability, priorities and panic mode; ejection by consecutive failures with the ejection
// share capped, back-off growing with repeated ejections, and return after the ejection time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_LIMITS,
  type ClusterConfig,
  type EndpointConfig,
  type OutlierConfig,
} from '../model/cluster.js';
import { Balancer, hash32 } from './balancer.js';
import { Host } from './host.js';
import { OutlierDetector } from './outlier.js';

function cfg(o: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    name: 'c',
    connectTimeoutMs: 1000,
    lbPolicy: 'round-robin',
    leastRequestChoices: 2,
    ringSize: { min: 1024, max: 8 * 1024 * 1024 },
    limits: DEFAULT_LIMITS,
    protocol: 'http1',
    idleTimeoutMs: 60_000,
    maxRequestsPerConnection: 0,
    panicThreshold: 0.5,
    metadata: new Map(),
    ...o,
  };
}
function host(n: number, o: Partial<EndpointConfig> = {}): Host {
  return new Host({
    address: `10.0.0.${n}`,
    port: 80,
    weight: 1,
    health: 'healthy',
    priority: 0,
    locality: '',
    hbone: false,
    metadata: new Map(),
    ...o,
  });
}
let seed = 1;
const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

test('round robin: equal hosts take turns; weights are honoured smoothly', () => {
  const b = new Balancer(cfg());
  const hs = [host(1), host(2), host(3)];
  b.setHosts(hs);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map(() => b.pick({ random: rand })!.key),
    ['10.0.0.1|80', '10.0.0.2|80', '10.0.0.3|80', '10.0.0.1|80', '10.0.0.2|80', '10.0.0.3|80'],
  );
  const w = new Balancer(cfg());
  w.setHosts([host(1, { weight: 3 }), host(2, { weight: 1 })]);
  const picks = Array.from({ length: 8 }, () => w.pick({ random: rand })!.endpoint.address);
  assert.equal(picks.filter((a) => a === '10.0.0.1').length, 6);
  assert.notDeepEqual(
    picks.slice(0, 3),
    ['10.0.0.1', '10.0.0.1', '10.0.0.1'],
    'interleaved, not in bursts',
  );
});

test('least request avoids the busy host; previous hosts are avoided on retries', () => {
  const b = new Balancer(cfg({ lbPolicy: 'least-request', leastRequestChoices: 2 }));
  const [a, c] = [host(1), host(2)];
  a.active = 10;
  b.setHosts([a, c]);
  const picks = Array.from({ length: 50 }, () => b.pick({ random: rand }));
  assert.ok(picks.filter((p) => p === c).length > 35);
  const r = new Balancer(cfg());
  r.setHosts([a, c]);
  for (let i = 0; i < 5; i++) assert.equal(r.pick({ random: rand, avoid: new Set([a]) }), c);
});

test('ring hash and Maglev: a key sticks to a host; removing one host moves only its keys', () => {
  for (const lbPolicy of ['ring-hash', 'maglev'] as const) {
    const hs = [1, 2, 3, 4].map((n) => host(n));
    const b = new Balancer(cfg({ lbPolicy }));
    b.setHosts(hs);
    const keys = Array.from({ length: 400 }, (_, i) => hash32(`user-${i}`));
    const before = keys.map((k) => b.pick({ random: rand, hash: k })!);
    assert.deepEqual(
      keys.map((k) => b.pick({ random: rand, hash: k })),
      before,
      `${lbPolicy}: stable`,
    );
    assert.ok(new Set(before).size === 4, `${lbPolicy}: keys spread over every host`);
    b.setHosts(hs.slice(0, 3));
    const after = keys.map((k) => b.pick({ random: rand, hash: k })!);
    // Modulo hashing would move ~3/4 of them; a consistent hash moves few (the ring is rebuilt
    // with more points per surviving host, so a handful move between them, as in Envoy).
    const surviving = keys.filter((_, i) => before[i] !== hs[3]).length;
    const moved = keys.filter((_, i) => before[i] !== hs[3] && after[i] !== before[i]).length;
    assert.ok(
      moved / surviving < 0.2,
      `${lbPolicy}: ${moved} of ${surviving} keys of surviving hosts moved`,
    );
    assert.ok(
      keys.every((_, i) => after[i] !== hs[3]),
      'nothing goes to the removed host',
    );
  }
});

test('priorities: the lowest level with healthy hosts; panic mode below the threshold uses all of them', () => {
  const b = new Balancer(cfg());
  const p0 = [host(1), host(2), host(3), host(4)];
  const p1 = [host(5, { priority: 1 })];
  b.setHosts([...p0, ...p1]);
  assert.ok(p0.includes(b.pick({ random: rand })!));
  p0[0]!.ejectedUntil = 1;
  b.invalidate();
  for (let i = 0; i < 10; i++)
    assert.notEqual(b.pick({ random: rand }), p0[0], 'an ejected host is skipped');
  for (const h of p0.slice(1)) h.ejectedUntil = 1;
  b.invalidate();
  assert.equal(b.pick({ random: rand }), p1[0], 'priority 0 has none healthy: priority 1');
  const solo = new Balancer(cfg());
  const two = [host(1), host(2), host(3)];
  two[0]!.ejectedUntil = 1;
  two[1]!.ejectedUntil = 1;
  solo.setHosts(two);
  const seen = new Set(Array.from({ length: 12 }, () => solo.pick({ random: rand })));
  assert.equal(seen.size, 3, '1 of 3 healthy is below 50 %: panic, every host');
});

function outlier(o: Partial<OutlierConfig>, hosts: Host[], now: { t: number }) {
  const events: string[] = [];
  const d = new OutlierDetector({
    config: {
      intervalMs: 10_000,
      baseEjectionMs: 30_000,
      maxEjectionMs: 300_000,
      maxEjectionPercent: 0.1,
      consecutive5xx: 5,
      enforcingConsecutive5xx: 1,
      consecutiveGatewayFailure: 5,
      enforcingConsecutiveGatewayFailure: 0,
      splitLocalOrigin: false,
      consecutiveLocalOriginFailure: 5,
      enforcingConsecutiveLocalOriginFailure: 1,
      enforcingSuccessRate: 0,
      successRateMinimumHosts: 5,
      successRateRequestVolume: 100,
      successRateStdevFactor: 1.9,
      failurePercentageThreshold: 0.85,
      enforcingFailurePercentage: 0,
      failurePercentageMinimumHosts: 5,
      failurePercentageRequestVolume: 50,
      ...o,
    },
    hosts: () => hosts,
    onChange: (h, e) => events.push(`${e} ${h.endpoint.address}`),
    now: () => now.t,
    random: () => 0,
  });
  return { d, events };
}

test('outlier detection: consecutive 5xx eject, a success resets the count, the time doubles, hosts return', () => {
  const now = { t: 1_000_000 };
  const hs = [host(1), host(2)];
  const { d, events } = outlier({ maxEjectionPercent: 0.5 }, hs, now);
  t5xx(d, hs[0]!, 4);
  d.reportStatus(hs[0]!, 200);
  t5xx(d, hs[0]!, 4);
  assert.equal(hs[0]!.ejected, false, 'a success in between resets the count');
  d.reportStatus(hs[0]!, 500);
  assert.equal(hs[0]!.ejected, true);
  assert.equal(hs[0]!.ejectedUntil - now.t, 30_000);
  t5xx(d, hs[1]!, 5);
  assert.equal(hs[1]!.ejected, false, 'a second ejection would exceed 50 %');
  assert.equal(d.stats.ejectionsOverflow, 1);
  now.t += 30_000;
  d.tick();
  assert.equal(hs[0]!.ejected, false, 'back after the ejection time');
  t5xx(d, hs[0]!, 5);
  assert.equal(hs[0]!.ejectedUntil - now.t, 60_000, 'the second ejection lasts twice as long');
  assert.deepEqual(events, ['ejected 10.0.0.1', 'returned 10.0.0.1', 'ejected 10.0.0.1']);
  d.close();
});

test('outlier detection: gateway errors when enforced; local-origin failures count as 503 unless split', () => {
  const now = { t: 0 };
  const hs = [
    host(1),
    host(2),
    host(3),
    host(4),
    host(5),
    host(6),
    host(7),
    host(8),
    host(9),
    host(10),
  ];
  const { d } = outlier(
    { consecutiveGatewayFailure: 2, enforcingConsecutiveGatewayFailure: 1 },
    hs,
    now,
  );
  d.reportStatus(hs[0]!, 502);
  d.reportStatus(hs[0]!, 503);
  assert.equal(hs[0]!.ejected, true);
  const { d: d2 } = outlier({ consecutive5xx: 3 }, [host(1)], now);
  const h = host(11);
  const { d: d3 } = outlier({ consecutive5xx: 3 }, [h], now);
  d3.reportLocalFailure(h);
  d3.reportLocalFailure(h);
  d3.reportLocalFailure(h);
  assert.equal(h.ejected, true, 'connect failures count as 5xx when not split');
  for (const x of [d, d2, d3]) x.close();
});

function t5xx(d: OutlierDetector, h: Host, n: number): void {
  for (let i = 0; i < n; i++) d.reportStatus(h, 503);
}
