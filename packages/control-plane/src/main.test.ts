// The real `trellis-control-plane --config-dir` as a child process, with a real delta xDS client:
// the initial WDS state equals the translator's golden files, editing one pod in the directory
// pushes exactly that pod's Address, deleting it sends its name in removed_resources, syncz shows
// the client's ACKed versions, /ready answers, a malformed file is reported by name while the
// rest keeps being served, and SIGTERM drains and exits 0.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '@trellis/api';
import { eventually } from '@trellis/core/test-support';
import {
  ClusterSchema,
  type Cluster,
} from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  ListenerSchema,
  type Listener,
} from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { createSotwClient, protoDecoder } from '@trellis/xds';
import { AuthorizationSchema } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { AddressSchema } from '@trellis/api/gen/istio/workload/workload_pb.js';
import type { SynczEntry } from './debug/syncz.js';
import { startControlPlaneProcess } from './server/test-support/control-plane-process.js';
import { wdsClient, ZTUNNEL_NODE_ID } from './server/test-support/wds-client.js';
import { envoyResourcesToYaml } from './translate/envoy/index.js';
import { resourcesToYaml } from './translate/index.js';

const TESTDATA = fileURLToPath(new URL('../testdata/', import.meta.url));
const CASE = 'authz-allow';
const DETAILS = 'Kubernetes//Pod/bookinfo/details-v1';

test(
  'config-dir mode serves WDS over delta xDS and follows the directory',
  { timeout: 180_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-main-'));
    const manifest = readFileSync(join(TESTDATA, `${CASE}.in.yaml`), 'utf8');
    writeFileSync(join(dir, 'mesh.yaml'), manifest);
    const cp = await startControlPlaneProcess([
      `--config-dir=${dir}`,
      '--xds-address=127.0.0.1:0',
      '--debug-address=127.0.0.1:0',
      '--debounce-quiet=20ms',
      '--debounce-max=200ms',
    ]);
    const client = wdsClient(`127.0.0.1:${cp.ports.xds}`, credentials.createInsecure());
    t.after(async () => {
      client.close();
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const get = (path: string) => fetch(`http://127.0.0.1:${cp.ports.debug}${path}`);

    assert.equal((await get('/ready')).status, 200, '/ready once the first snapshot is served');

    await eventually('both types received', () =>
      client.addresses.version() && client.authorizations.version() ? true : undefined,
    );
    assert.equal(
      resourcesToYaml(AddressSchema, client.addresses.resources()),
      readFileSync(join(TESTDATA, `${CASE}.addresses.golden.yaml`), 'utf8'),
      'the Addresses served equal the translator golden file',
    );
    assert.equal(
      resourcesToYaml(AuthorizationSchema, client.authorizations.resources()),
      readFileSync(join(TESTDATA, `${CASE}.authorizations.golden.yaml`), 'utf8'),
      'the Authorizations served equal the translator golden file',
    );

    const syncz = await eventually('syncz shows the client ACKed', async () => {
      const entries = (await (await get('/debug/syncz')).json()) as SynczEntry[];
      const mine = entries.find((e) => e.proxy === ZTUNNEL_NODE_ID);
      return mine?.types['address']?.state === 'SYNCED' &&
        mine.types['authorization']?.state === 'SYNCED'
        ? mine
        : undefined;
    });
    assert.equal(syncz.protocol, 'delta');
    assert.equal(
      syncz.types['address']!.ackedVersion,
      client.addresses.version(),
      'syncz shows the version the client holds',
    );
    assert.deepEqual(syncz.types['address']!.subscribed, ['*']);
    assert.equal(syncz.types['address']!.nacks, 0);

    // Edit one pod: exactly its Address comes back.
    const before = client.changes.length;
    replaceFile(
      join(dir, 'mesh.yaml'),
      manifest.replace('labels: { app: details }', 'labels: { app: details, version: v2 }'),
    );
    await eventually('the edited pod is pushed', () =>
      client.addresses.resources().get(DETAILS)?.type.case === 'workload' &&
      canonicalRevision(client) === 'v2'
        ? true
        : undefined,
    );
    const edits = client.changes.slice(before);
    assert.deepEqual(
      edits.map((c) => ({ type: c.typeUrl, updated: [...c.updated.keys()], removed: c.removed })),
      [{ type: ADDRESS_TYPE_URL, updated: [DETAILS], removed: [] }],
      'one response with one updated Address',
    );

    // Delete it: its name arrives in removed_resources.
    const beforeDelete = client.changes.length;
    replaceFile(join(dir, 'mesh.yaml'), withoutPod(manifest, 'details-v1'));
    await eventually('the deleted pod is removed', () =>
      client.addresses.resources().has(DETAILS) ? undefined : true,
    );
    assert.deepEqual(
      client.changes
        .slice(beforeDelete)
        .map((c) => ({ type: c.typeUrl, updated: [...c.updated.keys()], removed: c.removed })),
      [{ type: ADDRESS_TYPE_URL, updated: [], removed: [DETAILS] }],
    );

    // A malformed file: logged with its name, everything else still served.
    const generation = ((await (await get('/debug/configz')).json()) as { generation: number })
      .generation;
    const held = [...client.addresses.resources().keys()];
    writeFileSync(join(dir, 'broken.yaml'), 'kind: Pod\nmetadata: [unclosed\n');
    const problem = await cp.waitForLog(
      (l) => l.level === 'error' && l['file'] === 'broken.yaml',
      'an error naming broken.yaml',
    );
    assert.match(String(problem.msg), /broken\.yaml/);
    const configz = await eventually('the reload is applied', async () => {
      const c = (await (await get('/debug/configz')).json()) as {
        generation: number;
        objects: { pods: string[] };
      };
      return c.generation > generation ? c : undefined;
    });
    assert.deepEqual(
      configz.objects.pods,
      ['bookinfo/locked', 'bookinfo/reviews-v1'],
      'the valid file is still served',
    );
    assert.deepEqual(
      [...client.addresses.resources().keys()],
      held,
      'the client keeps every Address',
    );
    assert.equal((await get('/ready')).status, 200);

    const metrics = await (await get('/metrics')).text();
    assert.match(metrics, /pilot_xds_pushes\{type="address"\} \d+/);
    assert.match(metrics, /pilot_xds 1/);

    // SIGTERM with the client still connected: its stream is ended, the process exits 0.
    assert.equal(await cp.stop(), 0, 'SIGTERM drains and exits 0');
    await eventually('the client sees the stream end', () =>
      client.client.state !== 'connected' ? true : undefined,
    );
    assert.ok(cp.logs.some((l) => l.msg === 'shutdown complete'));
  },
);

test(
  'a waypoint gets its Envoy listeners and clusters over state-of-the-world xDS',
  { timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-envoy-'));
    const input = 'waypoint-httproute';
    writeFileSync(
      join(dir, 'mesh.yaml'),
      readFileSync(join(TESTDATA, 'envoy', `${input}.in.yaml`)),
    );
    const cp = await startControlPlaneProcess([
      `--config-dir=${dir}`,
      '--xds-address=127.0.0.1:0',
      '--debug-address=off',
    ]);
    const client = createSotwClient({
      address: `127.0.0.1:${cp.ports.xds}`,
      credentials: credentials.createInsecure(),
      node: {
        id: 'waypoint~10.244.9.9~waypoint-5d7f-abcde.bookinfo~bookinfo.svc.cluster.local',
        metadata: { LABELS: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
      },
    });
    t.after(async () => {
      client.close();
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const listeners = client.watch<Listener>(LISTENER_TYPE_URL, {
      decode: protoDecoder(ListenerSchema),
      resourceName: (l) => l.name,
      onChange() {},
    });
    const clusters = client.watch<Cluster>(CLUSTER_TYPE_URL, {
      decode: protoDecoder(ClusterSchema),
      resourceName: (c) => c.name,
      onChange() {},
    });
    await eventually('listeners and clusters', () =>
      listeners.version() && clusters.version() ? true : undefined,
    );
    const served = {
      listeners: new Map(listeners.resources()),
      clusters: new Map(clusters.resources()),
      routes: new Map(),
      endpoints: new Map(),
      notes: [],
    };
    for (const kind of ['listeners', 'clusters'] as const)
      assert.equal(
        envoyResourcesToYaml(served, kind),
        readFileSync(join(TESTDATA, 'envoy', `${input}.${kind}.golden.yaml`), 'utf8'),
        `the ${kind} served equal the envoy translator's golden file`,
      );
  },
);

test('start-up fails naming the flag for a bad value or a missing source', async () => {
  for (const [args, expected] of [
    [
      [
        '--config-dir=/nonexistent-dir-for-test',
        '--debug-address=127.0.0.1:0',
        '--xds-address=127.0.0.1:0',
      ],
      /nonexistent-dir-for-test/,
    ],
    [['--config-dir=/tmp', '--debounce-max=fast'], /--debounce-max: invalid value "fast"/],
    [[], /no source: give --config-dir/],
  ] as const) {
    const cp = startControlPlaneProcess([...args]);
    await assert.rejects(cp, (err: Error) => {
      assert.match(err.message, expected);
      return true;
    });
  }
});

/** Replaces a file in one step (a hidden temporary file, then rename), so no reader sees it half written. */
function replaceFile(path: string, text: string): void {
  const tmp = join(path, '..', `.${Date.now()}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function canonicalRevision(client: ReturnType<typeof wdsClient>): string | undefined {
  const a = client.addresses.resources().get(DETAILS);
  return a?.type.case === 'workload' ? a.type.value.canonicalRevision : undefined;
}

/** The manifest without the YAML document of pod `name`. */
function withoutPod(manifest: string, name: string): string {
  return manifest
    .split(/^---$/m)
    .filter((doc) => !(doc.includes('kind: Pod') && doc.includes(`name: ${name}\n`)))
    .join('---');
}
