// What an ingress Gateway deploys (testdata/controllers/gateway.in.yaml -> gateway.golden.yaml;
// REFRESH_GOLDEN=1 rewrites it), and the settings that change it: Istio's service-type annotation,
// the parametersRef ConfigMap, and the errors for values that do not fit.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { toGateway } from '../ingest/convert/gateway-api.js';
import { assertGolden } from '../test-support/golden.js';
import { gatewayObjects, gatewayParameters, gatewaySettingsProblem } from './gateway-objects.js';

const DIR = fileURLToPath(new URL('../../testdata/controllers/', import.meta.url));
const OPTIONS = {
  image: 'trellis/waypoint:dev',
  controlPlaneAddress: 'istiod.istio-system.svc:15012',
  trustDomain: 'cluster.local',
  clusterId: 'Kubernetes',
};
const raw = () =>
  parse(readFileSync(`${DIR}gateway.in.yaml`, 'utf8')) as object as Record<string, unknown>;

test('golden: an ingress Gateway deploys <gateway>-<class> objects it owns, in the gateway role', () => {
  const o = gatewayObjects(toGateway(raw()), OPTIONS);
  assertGolden(
    `${DIR}gateway.golden.yaml`,
    [o.serviceAccount, o.service, o.deployment]
      .map((x) => stringify(x, { lineWidth: 0 }))
      .join('---\n'),
  );
  assert.equal(o.deployment.spec!.template.spec!.serviceAccountName, 'public-trellis');
  assert.deepEqual(o.deployment.spec!.template.spec!.containers[0]!.args, ['--role', 'gateway']);
  assert.equal(o.service.spec!.type, 'LoadBalancer');
  assert.deepEqual(
    o.service.spec!.ports!.map((p) => `${p.name}:${p.port}`),
    ['http-80:80', 'https-443:443', 'tcp-5432:5432', 'status-port:15021'],
  );
  // The proxy runs as uid 1337: without this it cannot bind 80 and 443 (EACCES) in a container.
  assert.deepEqual(o.deployment.spec!.template.spec!.securityContext, {
    sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
  });
  for (const obj of [o.serviceAccount, o.service, o.deployment]) {
    assert.equal(
      obj.metadata!.labels!['team'],
      'edge',
      `${obj.kind} has the infrastructure labels`,
    );
    assert.equal(obj.metadata!.annotations!['example.com/owner'], 'platform');
  }
});

test("a listener on one of the proxy's own ports (readiness 15021) gets no Service or container port: no duplicate", () => {
  const r = raw() as { spec: { listeners: object[] } };
  r.spec.listeners.push({ name: 'on-readiness', port: 15021, protocol: 'HTTP' });
  const o = gatewayObjects(toGateway(r), OPTIONS);
  assert.deepEqual(
    o.service.spec!.ports!.map((p) => `${p.name}:${p.port}`),
    ['http-80:80', 'https-443:443', 'tcp-5432:5432', 'status-port:15021'],
  );
  const container = o.deployment.spec!.template.spec!.containers[0]!;
  const ports = container.ports!.map((p) => p.containerPort);
  assert.deepEqual(ports, [...new Set(ports)], 'container ports are unique');
});

test('the service type comes from the parametersRef ConfigMap, else the annotation, else LoadBalancer', () => {
  const r = raw() as { metadata: Record<string, unknown> };
  r.metadata['annotations'] = { 'networking.istio.io/service-type': 'NodePort' };
  const gw = toGateway(r);
  assert.equal(gatewayObjects(gw, OPTIONS).service.spec!.type, 'NodePort');
  const params = gatewayParameters({
    service: 'spec:\n  type: ClusterIP\n',
    deployment: 'spec:\n  replicas: 3\n',
  });
  assert.ok(params.ok);
  const o = gatewayObjects(gw, OPTIONS, params.value);
  assert.equal(o.service.spec!.type, 'ClusterIP');
  assert.equal(o.deployment.spec!.replicas, 3);
});

test('settings that do not fit are refused with the key and field named', () => {
  const problem = (data: Record<string, string>) => {
    const r = gatewayParameters(data);
    return r.ok ? undefined : r.problem;
  };
  assert.equal(
    problem({ service: 'spec:\n  type: Ingress\n' }),
    'data.service: spec.type must be one of ClusterIP, NodePort, LoadBalancer, got "Ingress"',
  );
  assert.equal(
    problem({ deployment: 'spec:\n  replicas: two\n' }),
    'data.deployment: spec.replicas must be a non-negative integer, got "two"',
  );
  assert.match(problem({ service: 'spec: [' }) ?? '', /^data\.service: not YAML: /);
  assert.equal(problem({ service: 'spec: 3' }), 'data.service: spec must be a map');
  const r = raw() as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  r.metadata['annotations'] = { 'networking.istio.io/service-type': 'Cloud' };
  assert.match(gatewaySettingsProblem(toGateway(r)) ?? '', /service-type: must be one of/);
  const r2 = raw() as { spec: Record<string, unknown> };
  r2.spec['infrastructure'] = {
    parametersRef: { group: 'example.com', kind: 'Params', name: 'p' },
  };
  assert.match(
    gatewaySettingsProblem(toGateway(r2)) ?? '',
    /only a ConfigMap .* got example\.com\/Params/,
  );
});

test('addresses the Gateway asks for go on its Service: loadBalancerIP for one, the MetalLB annotation for all', () => {
  const withAddresses = (addresses: unknown[]) => {
    const r = raw() as { spec: Record<string, unknown> };
    r.spec['addresses'] = addresses;
    return toGateway(r);
  };
  const one = gatewayObjects(
    withAddresses([{ type: 'IPAddress', value: '172.28.0.254' }]),
    OPTIONS,
  );
  assert.equal(one.service.spec!.loadBalancerIP, '172.28.0.254');
  assert.equal(one.service.metadata!.annotations!['metallb.io/loadBalancerIPs'], '172.28.0.254');
  // The annotation is on the Service only, beside the infrastructure annotations.
  assert.equal(one.service.metadata!.annotations!['example.com/owner'], 'platform');
  assert.equal(one.deployment.metadata!.annotations!['metallb.io/loadBalancerIPs'], undefined);
  const two = gatewayObjects(
    withAddresses([{ value: '172.28.0.253' }, { value: '172.28.0.254' }]),
    OPTIONS,
  );
  assert.equal(two.service.spec!.loadBalancerIP, undefined);
  assert.equal(
    two.service.metadata!.annotations!['metallb.io/loadBalancerIPs'],
    '172.28.0.253,172.28.0.254',
  );
  // An IPAddress entry without a value asks for nothing: the load balancer assigns one.
  const empty = gatewayObjects(withAddresses([{ type: 'IPAddress' }]), OPTIONS);
  assert.equal(empty.service.spec!.loadBalancerIP, undefined);
  assert.equal(empty.service.metadata!.annotations!['metallb.io/loadBalancerIPs'], undefined);
  assert.equal(gatewaySettingsProblem(withAddresses([{ type: 'IPAddress' }])), undefined);
  // Addresses that cannot be asked for: the Gateway is not deployed, and says why.
  assert.equal(
    gatewaySettingsProblem(
      withAddresses([
        { type: 'Hostname', value: 'gw.example.com' },
        { type: 'IPAddress', value: 'fake address' },
      ]),
    ),
    'spec.addresses[0]: type "Hostname" is not supported (only IPAddress: the gateway\'s address is its LoadBalancer Service\'s); spec.addresses[1]: "fake address" is not an IP address',
  );
});
