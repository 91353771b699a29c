// Cluster mode against a real apiserver (packages/local-cluster, one 1-node cluster for the file):
// the real trellis-ca binary keeps its root in Secret istio-ca-secret, publishes it as ConfigMap
// istio-ca-root-cert in every namespace, checks tokens with TokenReview, and lets the ztunnel
// impersonate only service accounts with a pod on the ztunnel's node (pod informer).
// The tests run in order and share one CA process (started in the first test).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, isRoot, rootOnly } from '@trellis/core/test-support';
import {
  createCluster,
  deleteCluster,
  kubeBinDir,
  kubectlFor,
  requireKubeBinaries,
  type Kubectl,
} from '@trellis/local-cluster';
import { createCaClient } from './client/ca-client.js';
import { csrFor, TD } from './test-support/static-token-ca.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const NAME = `cak${process.pid}`;
const needsRoot = rootOnly('the local cluster uses netns and bridges');
/** The set-up creates a one-node local cluster: minutes on a loaded machine. */
const CLUSTER_SETUP = { timeout: 5 * 60_000 };
const CA_NS = 'trellis-system';
const APPS = 'apps';
const GHOST_NODE = 'no-such-node';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

let kubeconfig = '';
let kc: Kubectl;
let created = false;
let node = '';
let ca: RunningCa | undefined;
let rootPem = '';
const children: ChildProcess[] = [];

const token = (namespace: string, sa: string, ...extra: string[]) =>
  kc.run(['create', 'token', sa, '-n', namespace, ...extra]).trim();
const spiffe = (namespace: string, sa: string) => `spiffe://${TD}/ns/${namespace}/sa/${sa}`;
const sameCert = (a: string, b: string) =>
  new X509Certificate(a).fingerprint256 === new X509Certificate(b).fingerprint256;
const uris = (pem: string) => new X509Certificate(pem).subjectAltName;
const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

interface RunningCa {
  readonly port: number;
  /** The `CA loaded` log record (store, created). */
  readonly loaded: { store: string; created: boolean };
  readonly logs: Obj[];
  stop(): Promise<number | null>;
}

/** Spawns the real trellis-ca in cluster mode (no --static-tokens) against the local cluster. */
async function startCa(): Promise<RunningCa> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      MAIN,
      '--listen',
      '127.0.0.1:0',
      '--namespace',
      CA_NS,
      '--metrics-port',
      '-1',
      '--drain',
      '100ms',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, KUBECONFIG: kubeconfig },
    },
  );
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logs: Obj[] = [];
  const lines = createInterface({ input: child.stdout! });
  const serving = new Promise<Obj>((resolve, reject) => {
    lines.on('line', (line) => {
      const rec = JSON.parse(line) as Obj;
      logs.push(rec);
      if (rec.msg === 'trellis-ca serving') resolve(rec);
    });
    void exited.then((code) => reject(new Error(`trellis-ca exited with ${code} before serving`)));
  });
  const ready = await serving;
  const loaded = logs.find((l) => l.msg === 'CA loaded');
  assert.ok(loaded, 'trellis-ca logged where its CA came from');
  return {
    port: ready.port,
    loaded,
    logs,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function client(tok: string) {
  assert.ok(ca, 'the CA is running');
  return createCaClient({ address: `127.0.0.1:${ca.port}`, rootPem, token: () => tok });
}

async function request(
  tok: string,
  identity: string,
  impersonatedIdentity?: string,
): Promise<string[]> {
  const c = client(tok);
  try {
    return await c.createCertificate(
      await csrFor(identity),
      impersonatedIdentity ? { impersonatedIdentity } : {},
    );
  } finally {
    c.close();
  }
}

before(async () => {
  if (!isRoot) return;
  requireKubeBinaries(kubeBinDir());
  const info = await createCluster({ name: NAME, nodes: 1 });
  created = true;
  kubeconfig = info.kubeconfig;
  kc = kubectlFor(kubeconfig);
  node = kc.getJson('nodes').items[0].metadata.name;
  kc.apply([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CA_NS } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APPS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ztunnel', namespace: CA_NS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: APPS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'api', namespace: APPS } },
  ]);
}, CLUSTER_SETUP);

after(async () => {
  if (ca) assert.equal(await ca.stop(), 0, 'trellis-ca exits 0 on SIGTERM');
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (created) await deleteCluster(NAME);
});

test(
  'a first start creates a self-signed root in Secret istio-ca-secret; a restart loads the same root',
  { ...needsRoot, timeout: 120_000 },
  async () => {
    assert.equal(
      kc.tryGet('secret', 'istio-ca-secret', '-n', CA_NS),
      undefined,
      'no CA Secret before the first start',
    );
    const first = await startCa();
    ca = first;
    assert.equal(first.loaded.store, `Secret ${CA_NS}/istio-ca-secret`);
    assert.equal(first.loaded.created, true, 'the first start created the root');

    const secret = kc.getJson('secret', 'istio-ca-secret', '-n', CA_NS);
    assert.equal(secret.type, 'istio.io/ca-root');
    assert.deepEqual(Object.keys(secret.data).sort(), [
      'ca-cert.pem',
      'ca-key.pem',
      'cert-chain.pem',
      'root-cert.pem',
    ]);
    rootPem = decode(secret.data['root-cert.pem']);
    const root = new X509Certificate(rootPem);
    assert.ok(root.ca && root.verify(root.publicKey), 'the root is a self-signed CA certificate');
    assert.ok(
      sameCert(decode(secret.data['ca-cert.pem']), rootPem),
      'the self-signed root signs directly',
    );
    assert.ok(sameCert(decode(secret.data['cert-chain.pem']), rootPem));

    // The first instance issues under that root.
    const web = token(APPS, 'web', '--audience=istio-ca');
    const issued = await request(web, spiffe(APPS, 'web'));
    assert.ok(sameCert(issued.at(-1)!, rootPem), 'the chain ends with the stored root');

    ca = undefined;
    assert.equal(await first.stop(), 0, 'trellis-ca exits 0 on SIGTERM');
    assert.deepEqual(
      first.logs.filter((l) => l.level >= 40),
      [],
      'no warnings or errors from start to shutdown',
    );
    ca = await startCa();
    assert.equal(ca.loaded.store, `Secret ${CA_NS}/istio-ca-secret`);
    assert.equal(ca.loaded.created, false, 'the restart loaded the stored root');
    const again = kc.getJson('secret', 'istio-ca-secret', '-n', CA_NS);
    assert.equal(again.metadata.uid, secret.metadata.uid, 'the restart did not replace the Secret');
    const afterRestart = await request(web, spiffe(APPS, 'web'));
    assert.ok(
      sameCert(afterRestart.at(-1)!, rootPem),
      'the restarted CA signs under the same root',
    );
    assert.ok(
      new X509Certificate(afterRestart[0]!).verify(root.publicKey),
      'the new leaf verifies with the original root key',
    );
  },
);

test(
  'the root is published as ConfigMap istio-ca-root-cert in every namespace and kept there',
  { ...needsRoot, timeout: 180_000 },
  async () => {
    const published = (ns: string) =>
      kc.tryGet('configmap', 'istio-ca-root-cert', '-n', ns)?.data?.['root-cert.pem'] as
        string | undefined;
    const namespaces: string[] = kc.getJson('namespaces').items.map((n: Obj) => n.metadata.name);
    for (const ns of ['default', 'kube-system', CA_NS, APPS])
      assert.ok(namespaces.includes(ns), `namespace ${ns} exists`);
    for (const ns of namespaces) {
      assert.equal(
        await eventually(`the root ConfigMap in ${ns}`, () => published(ns)),
        rootPem,
        `namespace ${ns} has the root`,
      );
    }

    kc.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'late' } }]);
    assert.equal(
      await eventually('the root ConfigMap in a new namespace', () => published('late')),
      rootPem,
    );

    const old = kc.getJson('configmap', 'istio-ca-root-cert', '-n', 'default');
    kc.run(['delete', 'configmap', 'istio-ca-root-cert', '-n', 'default']);
    const recreated = await eventually('the deleted ConfigMap re-created', () => {
      const cm = kc.tryGet('configmap', 'istio-ca-root-cert', '-n', 'default');
      return cm && cm.metadata.uid !== old.metadata.uid ? cm : undefined;
    });
    assert.equal(recreated.data['root-cert.pem'], rootPem);

    kc.run([
      'patch',
      'configmap',
      'istio-ca-root-cert',
      '-n',
      APPS,
      '--type=merge',
      '-p',
      JSON.stringify({ data: { 'root-cert.pem': 'not a root' } }),
    ]);
    assert.equal(
      await eventually('the edited ConfigMap restored', () =>
        published(APPS) === rootPem ? rootPem : undefined,
      ),
      rootPem,
    );

    // Taking the label off makes it leave the CA's label-selected watch: it is put back all the same.
    kc.run(['label', 'configmap', 'istio-ca-root-cert', '-n', 'late', 'istio.io/config-']);
    const relabelled = await eventually('the unlabelled ConfigMap restored', () => {
      const cm = kc.tryGet('configmap', 'istio-ca-root-cert', '-n', 'late');
      return cm?.metadata.labels?.['istio.io/config'] === 'true' ? cm : undefined;
    });
    assert.equal(relabelled.data['root-cert.pem'], rootPem);
  },
);

test(
  'TokenReview: an istio-ca token gets its own identity; another audience or identity is refused',
  { ...needsRoot, timeout: 60_000 },
  async () => {
    const web = token(APPS, 'web', '--audience=istio-ca');
    const chain = await request(web, spiffe(APPS, 'web'));
    assert.equal(uris(chain[0]!), `URI:${spiffe(APPS, 'web')}`);
    assert.ok(sameCert(chain.at(-1)!, rootPem));
    assert.ok(
      new X509Certificate(chain[0]!).verify(new X509Certificate(rootPem).publicKey),
      'the leaf is signed by the root',
    );

    const otherAudience = token(APPS, 'web', '--audience=something-else');
    await assert.rejects(request(otherAudience, spiffe(APPS, 'web')), (err: Obj) => {
      assert.equal(err.code, 16, `UNAUTHENTICATED, got ${err.code}: ${err.details}`);
      return true;
    });
    await assert.rejects(
      request('not-a-token', spiffe(APPS, 'web')),
      (err: Obj) => err.code === 16,
    );

    await assert.rejects(request(web, spiffe(APPS, 'api')), (err: Obj) => {
      assert.equal(err.code, 7, `PERMISSION_DENIED, got ${err.code}: ${err.details}`);
      return true;
    });
  },
);

test(
  'the ztunnel may impersonate only service accounts with a pod on its own node',
  { ...needsRoot, timeout: 180_000 },
  async () => {
    const pod = (namespace: string, name: string, sa: string, nodeName: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: {
        nodeName,
        serviceAccountName: sa,
        containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }],
      },
    });
    kc.apply([pod(CA_NS, 'ztunnel-a', 'ztunnel', node)]);
    const ztunnelPod = kc.getJson('pod', 'ztunnel-a', '-n', CA_NS);
    const bound = token(
      CA_NS,
      'ztunnel',
      '--audience=istio-ca',
      '--bound-object-kind=Pod',
      '--bound-object-name=ztunnel-a',
      `--bound-object-uid=${ztunnelPod.metadata.uid}`,
    );
    // api only on another node, created before web's pod so the index has seen it once it sees web.
    kc.apply([pod(APPS, 'api-b', 'api', GHOST_NODE)]);
    kc.apply([pod(APPS, 'web-a', 'web', node)]);

    const web = spiffe(APPS, 'web');
    const chain = await eventually('the impersonated certificate for web', () =>
      request(bound, web, web),
    );
    assert.equal(
      uris(chain[0]!),
      `URI:${web}`,
      'the ztunnel got a certificate for the pod on its node',
    );

    const api = spiffe(APPS, 'api');
    await assert.rejects(request(bound, api, api), (err: Obj) => {
      assert.equal(err.code, 7, `PERMISSION_DENIED, got ${err.code}: ${err.details}`);
      assert.match(
        err.details,
        new RegExp(`no pod with service account ${APPS}/api runs on node ${node}`),
      );
      return true;
    });

    // A workload may not impersonate, even one on the same node.
    const webToken = token(APPS, 'web', '--audience=istio-ca');
    await assert.rejects(
      request(webToken, api, api),
      (err: Obj) => err.code === 7 && /not a trusted node proxy/.test(err.details),
    );

    // Once web's pod is gone from the node, impersonating it is refused.
    kc.run(['delete', 'pod', 'web-a', '-n', APPS, '--grace-period=0', '--force']);
    const refused = await eventually('impersonation refused after the pod left', async () => {
      try {
        await request(bound, web, web);
        return undefined;
      } catch (err) {
        return err as Obj;
      }
    });
    assert.equal(refused.code, 7, `PERMISSION_DENIED, got ${refused.code}: ${refused.details}`);
  },
);
