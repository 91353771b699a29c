// DestinationRules beyond the goldens: port-level settings replace the top-level fields they set,
// subsets are reported as ignored (not silently dropped), and a port-level setting without a valid
// port rejects the object at ingest naming the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatProblem, parseManifests, snapshotFromObjects } from '../../ingest/manifests.js';
import { destinationRuleNotes, policyForPort } from './traffic-policy.js';

function load(yaml: string) {
  const parsed = parseManifests(yaml, 'dr.yaml');
  const built = snapshotFromObjects(parsed.objects);
  return {
    rules: built.snapshot.destinationRules,
    problems: [...parsed.problems, ...built.problems].map(formatProblem),
  };
}

const DR = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: cart, namespace: shop }
spec:
  host: cart
  trafficPolicy:
    loadBalancer: { simple: LEAST_REQUEST }
    connectionPool: { tcp: { maxConnections: 10 } }
    tls: { mode: ISTIO_MUTUAL }
    portLevelSettings:
      - port: { number: 5432 }
        loadBalancer: { simple: RANDOM }
        tls: { mode: SIMPLE, sni: db.example }
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
`;

test('a port-level setting replaces the fields it sets, for its port only', () => {
  const { rules, problems } = load(DR);
  assert.deepEqual(problems, []);
  const tp = rules[0]!.spec.trafficPolicy;
  const db = policyForPort(tp, 5432);
  assert.deepEqual(db.loadBalancer, { simple: 'RANDOM' });
  assert.equal(db.tls?.mode, 'SIMPLE');
  assert.deepEqual(db.connectionPool, { tcp: { maxConnections: 10 } }, 'kept from the top level');
  assert.deepEqual(policyForPort(tp, 8080).loadBalancer, { simple: 'LEAST_REQUEST' });
  assert.equal(policyForPort(tp, 8080).tls?.mode, 'ISTIO_MUTUAL');
});

test('subsets are reported as ignored, naming them', () => {
  const { rules } = load(DR);
  assert.deepEqual(destinationRuleNotes(rules), [
    {
      kind: 'DestinationRule',
      object: 'shop/cart',
      message:
        'subsets (v1, v2) are ignored: only VirtualService routes select subsets, and Trellis routes with Gateway API (HTTPRoute/GRPCRoute backendRefs name Services; make a Service per version instead)',
    },
  ]);
  assert.deepEqual(destinationRuleNotes(load(DR.replace(/ {2}subsets:[\s\S]*$/, '')).rules), []);
});

test('a port-level setting without a port number rejects the object, naming the field', () => {
  const { rules, problems } = load(DR.replace('port: { number: 5432 }', 'port: { name: db }'));
  assert.equal(rules.length, 0);
  assert.match(
    problems.join('\n'),
    /spec\.trafficPolicy\.portLevelSettings\[0\]\.port\.number: expected a port number \(1-65535\)/,
  );
});
