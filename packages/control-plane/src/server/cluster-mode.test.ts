// Cluster mode against a real apiserver (packages/local-cluster, one cluster shared by the file):
// the real binary with --kubeconfig serves a pod created through the apiserver as an Address,
// removes it when it is deleted, deploys a waypoint Gateway's ServiceAccount/Deployment/Service
// and an ingress Gateway's (status with addresses, parametersRef, GatewayClass supported features,
// garbage collection with the Gateway)
// and writes Gateway, HTTPRoute and AuthorizationPolicy status, tolerates a missing CRD, and its
// CA accepts a TokenRequest token (audience istio-ca) checked with TokenReview.
// Pods are bound to a Node object with no kubelet, so nothing runs them: their status is written
// through the status subresource, as a kubelet would.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata } from '@grpc/grpc-js';
import { createCaClient } from '@trellis/ca';
import { eventually, isRoot, rootOnly } from '@trellis/core/test-support';
import {
  createCluster,
  deleteCluster,
  kubeBinDir,
  kubectlFor,
  requireKubeBinaries,
  type Kubectl,
} from '@trellis/local-cluster';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '@trellis/core';
import { createCsr, generateKeyPair, inspectCertificate } from '@trellis/pki';
import { watchCluster } from '../ingest/kube.js';
import type { ClusterSnapshot } from '../model/kube.js';
import {
  startControlPlaneProcess,
  type ControlPlaneProcess,
} from './test-support/control-plane-process.js';
import { wdsClient, type WdsClient } from './test-support/wds-client.js';

const CRDS = fileURLToPath(new URL('../../testdata/crds/test-crds.yaml', import.meta.url));
const NAME = `cpk${process.pid}`;
const needsRoot = rootOnly('the local cluster uses netns and bridges');
/** The set-up creates a one-node local cluster: minutes on a loaded machine. */
const CLUSTER_SETUP = { timeout: 5 * 60_000 };
const NS = 'mesh-test';
const FAKE_NODE = 'no-kubelet-node';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

let kubeconfig = '';
let kc: Kubectl;
let cp: ControlPlaneProcess;
let client: WdsClient;
let created = false;

/** A waypoint Gateway named waypoint: class trellis-waypoint, the HBONE listener on 15008. */
const waypointGateway = (namespace: string) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'waypoint', namespace },
  spec: {
    gatewayClassName: 'trellis-waypoint',
    listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }],
  },
});

before(async () => {
  if (!isRoot) return;
  requireKubeBinaries(kubeBinDir());
  const info = await createCluster({ name: NAME, nodes: 1 });
  created = true;
  kubeconfig = info.kubeconfig;
  kc = kubectlFor(kubeconfig);
  kc.run(['apply', '-f', CRDS]);
  kc.run(['wait', '--for=condition=Established', '--timeout=60s', '-f', CRDS]);
  kc.apply([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } },
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, labels: { 'istio.io/dataplane-mode': 'ambient' } },
    },
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: FAKE_NODE, labels: { 'topology.kubernetes.io/zone': 'z1' } },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: NS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'client', namespace: NS } },
  ]);
  cp = await startControlPlaneProcess([
    `--kubeconfig=${kubeconfig}`,
    '--xds-address=127.0.0.1:0',
    '--secure-xds-address=127.0.0.1:0',
    '--debug-address=127.0.0.1:0',
    '--debounce-quiet=20ms',
    '--debounce-max=200ms',
    '--waypoint-image=trellis/waypoint:test',
  ]);
  await eventually(
    '/ready',
    async () =>
      (await fetch(`http://127.0.0.1:${cp.ports.debug}/ready`)).status === 200 ? true : undefined,
    120_000,
  );
  client = wdsClient(`127.0.0.1:${cp.ports.xds}`, credentials.createInsecure());
}, CLUSTER_SETUP);

after(async () => {
  client?.close();
  if (cp) assert.equal(await cp.stop(), 0, 'SIGTERM drains and exits 0');
  if (created) await deleteCluster(NAME);
});

test(
  'a missing CRD is tolerated and reported once; informer events are counted',
  needsRoot,
  async () => {
    const warnings = cp.logs.filter(
      (l) => l.level === 'warn' && String(l.msg).includes('grpcroutes.gateway.networking.k8s.io'),
    );
    assert.equal(warnings.length, 1, 'one warning names the missing GRPCRoute CRD');
    const metrics = await (await fetch(`http://127.0.0.1:${cp.ports.debug}/metrics`)).text();
    assert.match(metrics, /pilot_k8s_reg_events\{type="Namespaces",event="add"\} [1-9]/);
  },
);

test(
  'Secrets: Helm release records and service-account tokens are neither listed nor watched',
  { ...needsRoot, timeout: 120_000 },
  async () => {
    const secret = (name: string, type: string, extra: Obj = {}) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: NS, ...extra },
      type,
    });
    const pem = Buffer.from('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
    const tls = (name: string) => ({
      ...secret(name, 'kubernetes.io/tls'),
      data: { 'tls.crt': pem.toString('base64'), 'tls.key': '' },
    });
    kc.apply([
      tls('listed-tls'),
      secret('listed-opaque', 'Opaque'),
      secret('sh.helm.release.v1.app.v1', 'helm.sh/release.v1'),
      secret('client-token', 'kubernetes.io/service-account-token', {
        annotations: { 'kubernetes.io/service-account.name': 'client' },
      }),
    ]);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfig);
    let latest: ClusterSnapshot | undefined;
    const names = () =>
      (latest?.secrets ?? [])
        .filter((x) => x.metadata.namespace === NS)
        .map((x) => x.metadata.name)
        .sort();
    const watch = watchCluster({
      kubeConfig,
      logger: createLogger({ level: 'silent' }).root,
      onSnapshot: (snapshot) => (latest = snapshot),
    });
    try {
      await watch.ready;
      assert.deepEqual(names(), ['listed-opaque', 'listed-tls'], 'listed');
      // and through the watch: a new Helm release record is not seen, a new TLS Secret is
      kc.apply([secret('sh.helm.release.v1.app.v2', 'helm.sh/release.v1'), tls('later-tls')]);
      await eventually('the new TLS Secret', () =>
        names().includes('later-tls') ? true : undefined,
      );
      assert.deepEqual(names(), ['later-tls', 'listed-opaque', 'listed-tls'], 'watched');
    } finally {
      await watch.close();
    }
  },
);

test(
  'a pod created through the apiserver arrives as an Address and leaves when deleted',
  { ...needsRoot, timeout: 180_000 },
  async () => {
    kc.apply([
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: NS },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        // As the CNI agent marks a pod whose traffic it redirected to ztunnel.
        metadata: {
          name: 'web-0',
          namespace: NS,
          labels: { app: 'web' },
          annotations: { 'ambient.istio.io/redirection': 'enabled' },
        },
        spec: {
          nodeName: FAKE_NODE,
          serviceAccountName: 'web',
          containers: [{ name: 'web', image: 'trellis/echo', ports: [{ containerPort: 8080 }] }],
        },
      },
    ]);
    kc.run([
      'patch',
      'pod',
      'web-0',
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          phase: 'Running',
          podIP: '10.250.0.7',
          podIPs: [{ ip: '10.250.0.7' }],
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      }),
    ]);
    const uid = `Kubernetes//Pod/${NS}/web-0`;
    const address = await eventually(
      'the pod Address',
      () => client.addresses.resources().get(uid),
      60_000,
    );
    assert.equal(address.type.case, 'workload');
    const workload = address.type.case === 'workload' ? address.type.value : undefined;
    assert.deepEqual([...workload!.addresses[0]!], [10, 250, 0, 7]);
    assert.equal(workload!.serviceAccount, 'web');
    assert.equal(workload!.tunnelProtocol, 1, 'HBONE: the namespace is labelled ambient');
    assert.equal(workload!.node, FAKE_NODE);
    assert.deepEqual(Object.keys(workload!.services), [`${NS}/web.${NS}.svc.cluster.local`]);
    assert.ok(
      client.addresses.resources().has(`${NS}/web.${NS}.svc.cluster.local`),
      'the Service Address',
    );

    kc.run(['delete', 'pod', 'web-0', '-n', NS, '--grace-period=0', '--force']);
    await eventually(
      'the pod Address removed',
      () => (client.addresses.resources().has(uid) ? undefined : true),
      60_000,
    );
    assert.ok(
      client.changes.some((c) => c.removed.includes(uid)),
      'the removal arrived in removed_resources',
    );
  },
);

test(
  'a waypoint Gateway gets its ServiceAccount, Deployment and Service, and status',
  { ...needsRoot, timeout: 180_000 },
  async () => {
    kc.apply([
      waypointGateway(NS),
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'no-hbone', namespace: NS },
        spec: {
          gatewayClassName: 'trellis-waypoint',
          listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
        },
      },
    ]);
    const gw = kc.getJson('gateway', 'waypoint', '-n', NS);
    const deployment = await eventually(
      'the Deployment',
      () => kc.tryGet('deployment', 'waypoint', '-n', NS),
      60_000,
    );
    const service = await eventually(
      'the Service',
      () => kc.tryGet('service', 'waypoint', '-n', NS),
      60_000,
    );
    const sa = await eventually(
      'the ServiceAccount',
      () => kc.tryGet('serviceaccount', 'waypoint', '-n', NS),
      60_000,
    );
    for (const o of [deployment, service, sa]) {
      assert.deepEqual(
        o.metadata.ownerReferences.map((r: Obj) => [r.kind, r.name, r.uid]),
        [['Gateway', 'waypoint', gw.metadata.uid]],
        `${o.kind} is owned by the Gateway`,
      );
    }
    const container = deployment.spec.template.spec.containers[0];
    assert.equal(container.image, 'trellis/waypoint:test');
    assert.equal(
      container.env.find((e: Obj) => e.name === 'XDS_ADDRESS').value,
      'istiod.istio-system.svc:15012',
    );
    assert.equal(deployment.spec.template.spec.serviceAccountName, 'waypoint');
    assert.deepEqual(service.spec.ports.map((p: Obj) => p.port).sort(), [15008, 15020, 15021]);

    const status = await eventually(
      'the Gateway is Programmed',
      () => {
        const s = kc.getJson('gateway', 'waypoint', '-n', NS).status;
        return s?.conditions?.find((c: Obj) => c.type === 'Programmed')?.status === 'True'
          ? s
          : undefined;
      },
      60_000,
    );
    assert.equal(status.conditions.find((c: Obj) => c.type === 'Accepted').status, 'True');
    assert.deepEqual(
      status.addresses,
      [{ type: 'IPAddress', value: service.spec.clusterIP }],
      'the Service cluster IP is the address',
    );

    const bad = await eventually(
      'the Gateway without HBONE is refused',
      () => kc.getJson('gateway', 'no-hbone', '-n', NS).status?.conditions,
    );
    const accepted = bad.find((c: Obj) => c.type === 'Accepted');
    assert.equal(accepted.status, 'False');
    assert.equal(accepted.reason, 'ListenersNotValid');
    assert.match(accepted.message, /HBONE/);
    assert.equal(
      kc.tryGet('deployment', 'no-hbone', '-n', NS),
      undefined,
      'nothing is deployed for it',
    );

    // ztunnel learns the waypoint: the service bound to it carries its address.
    kc.run(['label', 'service', 'web', '-n', NS, 'istio.io/use-waypoint=waypoint']);
    const bound = await eventually(
      'the Service bound to the waypoint',
      () => {
        const a = client.addresses.resources().get(`${NS}/web.${NS}.svc.cluster.local`);
        return a?.type.case === 'service' && a.type.value.waypoint
          ? a.type.value.waypoint
          : undefined;
      },
      60_000,
    );
    assert.equal(bound.destination.case, 'address');
  },
);

test(
  'a waypoint whose Deployment the API server refuses (a ResourceQuota) is not Programmed, saying why; with the quota gone it is',
  { ...needsRoot, timeout: 180_000 },
  async () => {
    const ns = 'quota-test';
    kc.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'no-deployments', namespace: ns },
        spec: { hard: { 'count/deployments.apps': '0' } },
      },
    ]);
    kc.apply([waypointGateway(ns)]);
    const programmed = () =>
      kc
        .getJson('gateway', 'waypoint', '-n', ns)
        .status?.conditions?.find((c: Obj) => c.type === 'Programmed');
    const refused = await eventually(
      'Programmed False with the refusal',
      () => (programmed()?.reason === 'NoResources' ? programmed() : undefined),
      60_000,
    );
    assert.equal(refused.status, 'False');
    assert.match(
      refused.message,
      /^not deployed: Deployment quota-test\/waypoint was refused: .*(exceeded quota|quota).*no-deployments/,
    );
    // Its Service exists (applied before the Deployment), which alone used to mean Programmed.
    assert.ok(kc.tryGet('service', 'waypoint', '-n', ns));

    kc.run(['delete', 'resourcequota', 'no-deployments', '-n', ns]);
    await eventually(
      'Programmed once the Deployment is applied',
      () => (programmed()?.status === 'True' ? true : undefined),
      60_000,
    );
    assert.ok(kc.tryGet('deployment', 'waypoint', '-n', ns));
  },
);

test(
  'an ingress Gateway gets its <gateway>-<class> Deployment, LoadBalancer Service and ServiceAccount, status with addresses, and its class the supported features',
  { ...needsRoot, timeout: 240_000 },
  async () => {
    kc.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'edge' } },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'internal-options', namespace: 'edge' },
        data: { service: 'spec:\n  type: ClusterIP\n', deployment: 'spec:\n  replicas: 2\n' },
      },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'public', namespace: 'edge' },
        spec: {
          gatewayClassName: 'trellis',
          infrastructure: { labels: { team: 'edge' } },
          listeners: [
            { name: 'http', port: 80, protocol: 'HTTP' },
            {
              name: 'https',
              port: 443,
              protocol: 'HTTPS',
              tls: { certificateRefs: [{ name: 'not-there' }] },
            },
          ],
        },
      },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'internal', namespace: 'edge' },
        spec: {
          gatewayClassName: 'istio',
          infrastructure: {
            parametersRef: { group: '', kind: 'ConfigMap', name: 'internal-options' },
          },
          listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
        },
      },
    ]);
    const gw = kc.getJson('gateway', 'public', '-n', 'edge');
    const get = (kind: string, name: string) =>
      eventually(`${kind} ${name}`, () => kc.tryGet(kind, name, '-n', 'edge'), 60_000);
    const deployment = await get('deployment', 'public-trellis');
    const service = await get('service', 'public-trellis');
    const sa = await get('serviceaccount', 'public-trellis');
    for (const o of [deployment, service, sa]) {
      assert.deepEqual(
        o.metadata.ownerReferences.map((r: Obj) => [r.kind, r.name, r.uid]),
        [['Gateway', 'public', gw.metadata.uid]],
        `${o.kind} is owned by the Gateway`,
      );
      assert.equal(o.metadata.labels.team, 'edge', `${o.kind} has spec.infrastructure.labels`);
    }
    const pod = deployment.spec.template;
    assert.deepEqual(pod.spec.containers[0].args, ['--role', 'gateway']);
    assert.equal(pod.spec.serviceAccountName, 'public-trellis');
    assert.equal(pod.metadata.labels['gateway.networking.k8s.io/gateway-name'], 'public');
    assert.equal(service.spec.type, 'LoadBalancer');
    assert.deepEqual(
      service.spec.ports.map((p: Obj) => p.port),
      [80, 443, 15021],
    );

    // The local cluster's load-balancer controller gives the Service an address: it becomes the
    // Gateway's address, and the Gateway is Programmed (before that, goldens cover no address
    // and AddressNotAssigned). The listener without its certificate says why.
    const lbIp = await eventually(
      'the load balancer address of the Service',
      () =>
        kc.tryGet('service', 'public-trellis', '-n', 'edge')?.status?.loadBalancer?.ingress?.[0]
          ?.ip,
      60_000,
    );
    const ready = await eventually(
      'the Gateway is Programmed with the load balancer address',
      () => {
        const st = kc.getJson('gateway', 'public', '-n', 'edge').status;
        return st?.conditions?.find((c: Obj) => c.type === 'Programmed')?.status === 'True'
          ? st
          : undefined;
      },
      60_000,
    );
    assert.deepEqual(ready.addresses, [{ type: 'IPAddress', value: lbIp }]);
    const https = ready.listeners.find((l: Obj) => l.name === 'https');
    const refs = https.conditions.find((c: Obj) => c.type === 'ResolvedRefs');
    assert.equal(refs.reason, 'InvalidCertificateRef');
    assert.match(refs.message, /Secret edge\/not-there not found/);

    // parametersRef: a ClusterIP Service and two replicas.
    const internal = await get('deployment', 'internal-istio');
    assert.equal(internal.spec.replicas, 2);
    assert.equal((await get('service', 'internal-istio')).spec.type, 'ClusterIP');

    const classStatus = await eventually(
      'GatewayClass trellis status',
      () => kc.tryGet('gatewayclass', 'trellis')?.status,
      60_000,
    );
    assert.equal(classStatus.conditions.find((c: Obj) => c.type === 'Accepted').status, 'True');
    const features = classStatus.supportedFeatures.map((f: Obj) => f.name);
    assert.ok(features.includes('HTTPRoute') && features.includes('ReferenceGrant'));
    assert.deepEqual(features, [...features].sort(), 'sorted, as the spec asks');

    // Removed with the Gateway (Kubernetes' garbage collector follows the ownerReferences).
    kc.run(['delete', 'gateway', 'public', '-n', 'edge']);
    await eventually(
      'the Deployment is gone with its Gateway',
      () => (kc.tryGet('deployment', 'public-trellis', '-n', 'edge') ? undefined : true),
      90_000,
    );
  },
);

test(
  'a custom resource with a wrongly typed field is left out, named by kind/namespace/name; the rest keeps flowing',
  { ...needsRoot, timeout: 180_000 },
  async () => {
    // The test CRDs have no schema, so the apiserver stores what a typo makes of a Gateway.
    kc.apply([
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'typo', namespace: NS },
        spec: { gatewayClassName: 'trellis-waypoint', listeners: 'mesh' },
      },
    ]);
    const logged = await cp.waitForLog(
      (l) => l.level === 'error' && String(l.msg).startsWith('Gateway mesh-test/typo rejected'),
      'the rejection of the Gateway, by kind and name',
      60_000,
    );
    assert.match(String(logged.msg), /spec\.listeners: expected a list, got the string "mesh"/);
    const debug = `http://127.0.0.1:${cp.ports.debug}`;
    const configz = await eventually('configz lists it', async () => {
      const c = (await (await fetch(`${debug}/debug/configz`)).json()) as {
        rejected: { kind: string; object: string; message: string }[];
      };
      return c.rejected.length > 0 ? c : undefined;
    });
    assert.deepEqual(
      configz.rejected.map((r) => `${r.kind} ${r.object}`),
      [`Gateway ${NS}/typo`],
    );
    assert.match(
      await (await fetch(`${debug}/metrics`)).text(),
      /trellis_config_rejected_objects\{kind="Gateway"\} 1/,
    );

    // Meanwhile a new pod is served.
    kc.apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'after-typo', namespace: NS, labels: { app: 'other' } },
        spec: { nodeName: FAKE_NODE, containers: [{ name: 'c', image: 'trellis/echo' }] },
      },
    ]);
    kc.run([
      'patch',
      'pod',
      'after-typo',
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Running', podIP: '10.250.0.9' } }),
    ]);
    await eventually(
      'the pod created after the bad Gateway is served',
      () => client.addresses.resources().get(`Kubernetes//Pod/${NS}/after-typo`),
      60_000,
    );
    kc.run(['delete', 'pod', 'after-typo', '-n', NS, '--grace-period=0', '--force']);
    kc.run(['delete', 'gateway', 'typo', '-n', NS]);
    await eventually('the rejection clears once the object is gone', async () => {
      const c = (await (await fetch(`${debug}/debug/configz`)).json()) as { rejected: unknown[] };
      return c.rejected.length === 0 ? true : undefined;
    });
  },
);

test('HTTPRoute and AuthorizationPolicy status', { ...needsRoot, timeout: 180_000 }, async () => {
  kc.apply([
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web', namespace: NS },
      spec: {
        parentRefs: [{ name: 'waypoint' }],
        rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'missing-backend', namespace: NS },
      spec: {
        parentRefs: [{ group: '', kind: 'Service', name: 'web' }],
        rules: [{ backendRefs: [{ name: 'nope', port: 80 }] }],
      },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'allow-client', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        rules: [{ from: [{ source: { principals: [`cluster.local/ns/${NS}/sa/client`] } }] }],
      },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'get-only', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
      },
    },
  ]);
  const parents = await eventually(
    'route status',
    () => kc.getJson('httproute', 'web', '-n', NS).status?.parents,
  );
  assert.equal(parents.length, 1);
  assert.equal(parents[0].controllerName, 'trellis.dev/waypoint-controller');
  assert.deepEqual(
    parents[0].conditions.map((c: Obj) => [c.type, c.status, c.reason]),
    [
      ['Accepted', 'True', 'Accepted'],
      ['ResolvedRefs', 'True', 'ResolvedRefs'],
    ],
  );
  const missing = await eventually(
    'route status',
    () => kc.getJson('httproute', 'missing-backend', '-n', NS).status?.parents,
  );
  const refs = missing[0].conditions.find((c: Obj) => c.type === 'ResolvedRefs');
  assert.deepEqual([refs.status, refs.reason], ['False', 'BackendNotFound']);
  assert.match(refs.message, /Service mesh-test\/nope not found/);

  const gatewayStatus = await eventually('attachedRoutes', () => {
    const l = kc.getJson('gateway', 'waypoint', '-n', NS).status?.listeners?.[0];
    return l?.attachedRoutes === 1 ? l : undefined;
  });
  assert.equal(gatewayStatus.name, 'mesh');

  const policy = await eventually(
    'policy status',
    () => kc.getJson('authorizationpolicy', 'allow-client', '-n', NS).status?.conditions,
  );
  assert.deepEqual(
    policy.map((c: Obj) => [c.type, c.status, c.reason]),
    [['ZtunnelAccepted', 'True', 'Accepted']],
  );
  const partial = await eventually(
    'policy status',
    () => kc.getJson('authorizationpolicy', 'get-only', '-n', NS).status?.conditions,
  );
  assert.deepEqual(
    partial.map((c: Obj) => [c.type, c.status, c.reason]),
    [['ZtunnelAccepted', 'True', 'UnsupportedValue']],
  );
  assert.match(partial[0].message, /methods/);
  await eventually('the Authorization over xDS', () =>
    client.authorizations.resources().get(`${NS}/allow-client`),
  );
});

test(
  'the CA accepts a TokenRequest token checked with TokenReview, and so does xDS on the secure port',
  { ...needsRoot, timeout: 120_000 },
  async () => {
    const token = kc.run(['create', 'token', 'client', '-n', NS, '--audience=istio-ca']).trim();
    const rootPem = await eventually(
      'the published root ConfigMap',
      () =>
        kc.tryGet('configmap', 'istio-ca-root-cert', '-n', NS)?.data?.['root-cert.pem'] as
          string | undefined,
    );
    const address = `127.0.0.1:${cp.ports.secureXds}`;
    const ca = createCaClient({ address, rootPem, token: () => token });
    try {
      const key = await generateKeyPair('ecdsa-p256');
      const identity = `spiffe://cluster.local/ns/${NS}/sa/client`;
      const chain = await ca.createCertificate(
        await createCsr({ identity, privateKey: key.privateKey }),
      );
      assert.deepEqual(inspectCertificate(chain[0]!).subjectAltName?.uris, [identity]);

      const other = await createCsr({
        identity: `spiffe://cluster.local/ns/${NS}/sa/web`,
        privateKey: key.privateKey,
      });
      await assert.rejects(
        ca.createCertificate(other),
        /PERMISSION_DENIED|not allowed|may not/i,
        'a token gets only its own identity',
      );

      const wrongAudience = kc
        .run(['create', 'token', 'client', '-n', NS, '--audience=something-else'])
        .trim();
      const caWrong = createCaClient({ address, rootPem, token: () => wrongAudience });
      await assert.rejects(
        caWrong.createCertificate(await createCsr({ identity, privateKey: key.privateKey })),
        /UNAUTHENTICATED/,
      );
      caWrong.close();
    } finally {
      ca.close();
    }

    const secure = wdsClient(
      address,
      credentials.combineChannelCredentials(
        credentials.createSsl(Buffer.from(rootPem)),
        credentials.createFromMetadataGenerator((_p, cb) => {
          const md = new Metadata();
          md.set('authorization', `Bearer ${token}`);
          cb(null, md);
        }),
      ),
      // The node id must claim the token's namespace.
      `ztunnel~10.0.0.9~client-0.${NS}~${NS}.svc.cluster.local`,
    );
    try {
      await eventually('Addresses over the secure port', () =>
        secure.addresses.resources().size > 0 ? true : undefined,
      );
    } finally {
      secure.close();
    }
  },
);
