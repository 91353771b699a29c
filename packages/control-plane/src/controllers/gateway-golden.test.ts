// Ingress gateways, one decision, two outputs: testdata/gateway/<case>.in.yaml -> <case>.golden.yaml
// holding the Gateway and route status the controller writes AND the xDS resources (LDS, RDS, CDS,
// EDS, SDS) served to the proxies of the Gateways named on the first line (`# gateways: <ns>/<name>;
// ...`), from the same snapshot. REFRESH_GOLDEN=1 rewrites. Besides the golden comparison: every
// route configuration a listener names is served, every cluster has its endpoints, every SDS name
// a listener names is served, and only Secrets the Gateway may use are.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { unpackAnyAs } from '@trellis/api';
import { HttpConnectionManagerSchema } from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { DownstreamTlsContextSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { assertGolden, goldenCaseNames } from '../test-support/golden.js';
import { servedCase } from '../test-support/served-case.js';
import { envoyResourcesToYaml } from '../translate/envoy/index.js';
import { gatewayDecision } from '../translate/envoy/gateway-listeners.js';
import { gatewayResources } from '../translate/envoy/gateway-resources.js';
import { referenceAllowed } from '../translate/envoy/reference-grants.js';
import { workloadIndex } from '../translate/envoy/workload-index.js';
import { desiredStatuses } from './desired-status.js';

const DIR = fileURLToPath(new URL('../../testdata/gateway/', import.meta.url));
const NOW = new Date('2026-11-01T00:00:00.000Z');
const cases = goldenCaseNames(DIR);

function load(name: string) {
  const { header: gateways, served } = servedCase(DIR, name, 'gateways', NOW);
  return { gateways, served };
}

test('there are gateway golden cases', () => {
  assert.ok(cases.length >= 2, `found only ${cases.length} cases in ${DIR}`);
});

for (const name of cases) {
  test(`gateway golden: ${name}`, () => {
    const { gateways, served } = load(name);
    const status = desiredStatuses(served, NOW)
      .filter((w) => w.resource.kind !== 'AuthorizationPolicy')
      .map((w) => ({
        object: `${w.resource.kind} ${w.namespace}/${w.name}`,
        status: JSON.parse(
          JSON.stringify(w.status, (k, v: unknown) => (k === 'lastTransitionTime' ? undefined : v)),
        ) as unknown,
      }));
    const state = served.envoy;
    const xds: Record<string, unknown> = {};
    for (const key of gateways) {
      const gw = state.gateways?.find((g) => `${g.metadata.namespace}/${g.metadata.name}` === key);
      assert.ok(gw, `${key} is not a Gateway in ${name}.in.yaml`);
      const out = gatewayResources(state, gw, workloadIndex(state));
      xds[key] = {
        listeners: parse(envoyResourcesToYaml(out, 'listeners')) as unknown,
        routes: parse(envoyResourcesToYaml(out, 'routes')) as unknown,
        clusters: parse(envoyResourcesToYaml(out, 'clusters')) as unknown,
        endpoints: parse(envoyResourcesToYaml(out, 'endpoints')) as unknown,
        secrets: [...out.secrets.keys()],
        ...(out.notes.length ? { notes: out.notes } : {}),
      };

      // Every RDS and SDS name a listener uses is served; every cluster has endpoints.
      const sds = new Set<string>();
      for (const l of out.listeners.values())
        for (const c of l.filterChains) {
          const t = c.filters.at(-1)!.configType;
          if (t.case === 'typedConfig' && t.value.typeUrl.endsWith('.HttpConnectionManager')) {
            const hcm = unpackAnyAs(t.value, HttpConnectionManagerSchema);
            const rds =
              hcm.routeSpecifier.case === 'rds' ? hcm.routeSpecifier.value.routeConfigName : '';
            assert.ok(out.routes.has(rds), `${l.name} names ${rds}, which is not served`);
          }
          const ts = c.transportSocket?.configType;
          if (ts?.case === 'typedConfig')
            for (const s of unpackAnyAs(ts.value, DownstreamTlsContextSchema).commonTlsContext!
              .tlsCertificateSdsSecretConfigs)
              sds.add(s.name);
        }
      assert.deepEqual([...sds].sort(), [...out.secrets.keys()].sort());
      assert.deepEqual([...out.endpoints.keys()], [...out.clusters.keys()]);
      // Only Secrets of the listener owner's namespace or granted to it (the Gateway, or the
      // ListenerSet a listener comes from).
      for (const s of out.secrets.keys()) {
        const [ns, secretName] = s.slice('kubernetes://'.length).split('/');
        const owners = gatewayDecision(state, gw)
          .listeners.filter((d) => d.certificates.includes(s))
          .map((d) =>
            d.origin
              ? { kind: 'ListenerSet', namespace: d.origin.namespace }
              : { kind: 'Gateway', namespace: gw.metadata.namespace },
          );
        assert.ok(
          owners.length > 0 &&
            owners.every((o) =>
              referenceAllowed(
                state.referenceGrants,
                { group: 'gateway.networking.k8s.io', ...o },
                { group: '', kind: 'Secret', namespace: ns!, name: secretName! },
              ),
            ),
          `${s} is served to ${key} without a ReferenceGrant`,
        );
      }
      // Listeners that are not programmed are not served.
      for (const d of gatewayDecision(state, gw).listeners)
        if (
          !d.programmed &&
          !gatewayDecision(state, gw).listeners.some(
            (o) => o.programmed && o.listener.port === d.listener.port,
          )
        )
          assert.ok(
            !out.listeners.has(`0.0.0.0_${d.listener.port}`),
            `${d.listener.name} is served`,
          );
    }
    assertGolden(join(DIR, `${name}.golden.yaml`), stringify({ status, xds }, { lineWidth: 0 }));
  });
}
