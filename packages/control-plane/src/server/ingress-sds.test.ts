// An ingress gateway's proxy against the real binary (--config-dir, plaintext xDS on 127.0.0.1):
// with Istio's router node id it gets its Listeners and its listener certificates over SDS, by
// state-of-the-world and delta ADS alike; a certificate in another namespace that no ReferenceGrant
// lets it use is not served; a rotated Secret reaches it as a new SDS resource while its Listeners
// keep their version (no restart, no listener drain); a waypoint gets no Secret.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import { LISTENER_TYPE_URL, SECRET_TYPE_URL } from '@trellis/api';
import {
  ListenerSchema,
  type Listener,
} from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import {
  SecretSchema,
  type Secret,
} from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { eventually } from '@trellis/core/test-support';
import { createDeltaClient, createSotwClient, protoDecoder, type XdsClient } from '@trellis/xds';
import { startControlPlaneProcess } from './test-support/control-plane-process.js';

const INPUT = fileURLToPath(new URL('../../testdata/gateway/listeners.in.yaml', import.meta.url));
const ROUTER = 'router~10.244.3.3~public-trellis-6c9d-x2x.edge~edge.svc.cluster.local';
const LABELS = { 'gateway.networking.k8s.io/gateway-name': 'public' };

function certificate(s: Secret | undefined): string {
  const c = s?.type.case === 'tlsCertificate' ? s.type.value.certificateChain : undefined;
  return c?.specifier.case === 'inlineBytes' ? new TextDecoder().decode(c.specifier.value) : '';
}

function watchGateway(client: XdsClient) {
  const listeners = client.watch<Listener>(LISTENER_TYPE_URL, {
    decode: protoDecoder(ListenerSchema),
    resourceName: (l) => l.name,
    onChange() {},
  });
  const secrets = client.watch<Secret>(SECRET_TYPE_URL, {
    decode: protoDecoder(SecretSchema),
    resourceName: (s) => s.name,
    onChange() {},
  });
  return { listeners, secrets };
}

test(
  'an ingress gateway gets its listener certificates by SDS and a rotated one without a listener change',
  { timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-sds-'));
    const manifest = readFileSync(INPUT, 'utf8');
    writeFileSync(join(dir, 'mesh.yaml'), manifest);
    const cp = await startControlPlaneProcess([
      `--config-dir=${dir}`,
      '--xds-address=127.0.0.1:0',
      '--debug-address=off',
      '--debounce-quiet=20ms',
      '--debounce-max=200ms',
    ]);
    const node = { id: ROUTER, metadata: { LABELS } };
    const address = `127.0.0.1:${cp.ports.xds}`;
    const insecure = credentials.createInsecure();
    const sotw = createSotwClient({ address, credentials: insecure, node });
    const delta = createDeltaClient({ address, credentials: insecure, node });
    const waypoint = createSotwClient({
      address,
      credentials: insecure,
      node: {
        id: 'waypoint~10.244.3.4~waypoint-1.edge~edge.svc.cluster.local',
        metadata: { LABELS: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
      },
    });
    t.after(async () => {
      for (const c of [sotw, delta, waypoint]) c.close();
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const watches = [watchGateway(sotw), watchGateway(delta)];
    const waypointSecrets = waypoint.watch<Secret>(SECRET_TYPE_URL, {
      decode: protoDecoder(SecretSchema),
      resourceName: (s) => s.name,
      onChange() {},
    });
    const expected = [
      'kubernetes://certs/api-rsa',
      'kubernetes://edge/api-cert',
      'kubernetes://edge/shop-cert',
    ];
    for (const [i, w] of watches.entries()) {
      await eventually(`${i ? 'delta' : 'sotw'}: listeners and secrets`, () =>
        w.listeners.resources().size > 0 && w.secrets.resources().size === 3 ? true : undefined,
      );
      assert.deepEqual([...w.listeners.resources().keys()].sort(), [
        '0.0.0.0_443',
        '0.0.0.0_80',
        '0.0.0.0_8080',
      ]);
      assert.deepEqual(
        [...w.secrets.resources().keys()].sort(),
        expected,
        'certs/not-granted (no ReferenceGrant) is not served',
      );
      assert.match(certificate(w.secrets.resources().get(expected[2]!)), /c2hvcA==/);
    }
    const listenerVersion = watches[0]!.listeners.version();
    const listener443 = watches[1]!.listeners.resources().get('0.0.0.0_443');

    // Rotation: the Secret's certificate changes in place.
    const rotated = manifest.replace(
      'tls.crt: "-----BEGIN CERTIFICATE-----\\nc2hvcA==',
      'tls.crt: "-----BEGIN CERTIFICATE-----\\nbmV3c2hvcA==',
    );
    assert.notEqual(rotated, manifest, 'the test rotates the certificate of edge/shop-cert');
    const tmp = join(dir, '.rotate.tmp');
    writeFileSync(tmp, rotated);
    renameSync(tmp, join(dir, 'mesh.yaml'));
    for (const [i, w] of watches.entries())
      await eventually(`${i ? 'delta' : 'sotw'}: the rotated certificate`, () =>
        /bmV3c2hvcA==/.test(certificate(w.secrets.resources().get(expected[2]!)))
          ? true
          : undefined,
      );
    assert.equal(watches[0]!.listeners.version(), listenerVersion, 'no Listener was pushed');
    assert.equal(
      watches[1]!.listeners.resources().get('0.0.0.0_443'),
      listener443,
      'the delta client got no new Listener',
    );

    await eventually('the waypoint got its (empty) SDS response', () =>
      waypointSecrets.version() ? true : undefined,
    );
    assert.equal(waypointSecrets.resources().size, 0, 'a waypoint gets no Secret');
  },
);
