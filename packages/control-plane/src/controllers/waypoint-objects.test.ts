// Golden test of what a waypoint Gateway deploys (testdata/controllers/waypoint.in.yaml ->
// waypoint.golden.yaml; REFRESH_GOLDEN=1 rewrites it), and the refusal of a Gateway without uid.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { assertGolden } from '../test-support/golden.js';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { toGateway } from '../ingest/convert/gateway-api.js';
import { waypointObjects } from './waypoint-objects.js';

const DIR = fileURLToPath(new URL('../../testdata/controllers/', import.meta.url));
const OPTIONS = {
  image: 'trellis/waypoint:dev',
  controlPlaneAddress: 'istiod.istio-system.svc:15012',
  trustDomain: 'cluster.local',
  clusterId: 'Kubernetes',
};

test('golden: a waypoint Gateway deploys a ServiceAccount, a Service and a Deployment it owns', () => {
  const gw = toGateway(
    parse(readFileSync(`${DIR}waypoint.in.yaml`, 'utf8')) as object as Record<string, unknown>,
  );
  const o = waypointObjects(gw, OPTIONS);
  const actual = [o.serviceAccount, o.service, o.deployment]
    .map((x) => stringify(x, { lineWidth: 0 }))
    .join('---\n');
  assertGolden(`${DIR}waypoint.golden.yaml`, actual);
  // Its ports (15008, 15020, 15021) are all unprivileged: the pod keeps the kernel's default.
  assert.equal(o.deployment.spec!.template.spec!.securityContext, undefined);
});

test('a Gateway without a uid cannot own objects', () => {
  assert.throws(
    () =>
      waypointObjects(
        toGateway({ metadata: { name: 'w', namespace: 'n' }, spec: { gatewayClassName: 'x' } }),
        OPTIONS,
      ),
    /metadata\.uid/,
  );
});

test('with a collector set, the waypoint exports its traces there', () => {
  const gw = toGateway(
    parse(readFileSync(`${DIR}waypoint.in.yaml`, 'utf8')) as object as Record<string, unknown>,
  );
  const env = (o: ReturnType<typeof waypointObjects>) =>
    o.deployment.spec!.template.spec!.containers[0]!.env!.find(
      (e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT',
    )?.value;
  assert.equal(env(waypointObjects(gw, OPTIONS)), undefined);
  assert.equal(
    env(waypointObjects(gw, { ...OPTIONS, otlpEndpoint: 'http://otel.observability:4317' })),
    'http://otel.observability:4317',
  );
});
