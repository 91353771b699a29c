// The CLI against a real API server (a 2-node local cluster, as root): precheck, dry run, install,
// idempotent re-install, CRD validation, status, upgrade in place, prune on a profile change, the
// timeout report, waypoints, analyze, and an uninstall that leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createCluster,
  deleteCluster,
  kubectlFor,
  run,
  type Kubectl,
} from '@trellis/local-cluster';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));
const NAME = `cli${process.pid}`;
let kubeconfig = '';
let kubectl: Kubectl;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `trellis ARGS --kubeconfig <cluster>` as a process. */
async function trellis(...args: string[]): Promise<Run> {
  const r = await run(process.execPath, [CLI, ...args, '--kubeconfig', kubeconfig], {
    allowFailure: true,
  });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

const ok = (r: Run, what: string) =>
  assert.equal(r.status, 0, `${what} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);

/** kubectl apply of a YAML text; resolves with its exit status and stderr. */
function kubectlApply(yaml: string): { ok: boolean; stderr: string } {
  try {
    kubectl.run(['apply', '--server-side', '-f', '-'], yaml);
    return { ok: true, stderr: '' };
  } catch (e) {
    return { ok: false, stderr: String((e as { stderr?: string }).stderr ?? e) };
  }
}

/** generation (or resourceVersion when there is none) of every object labelled part of Trellis. */
function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  const kinds =
    'serviceaccounts services configmaps deployments daemonsets poddisruptionbudgets roles rolebindings clusterroles clusterrolebindings crds namespaces gatewayclasses';
  for (const kind of kinds.split(' ')) {
    // gatewayclasses is not served once the Gateway API CRDs are gone.
    const list = kubectl.tryGet(kind, '-A', '-l', 'app.kubernetes.io/part-of=trellis') ?? {
      items: [],
    };
    for (const o of list.items)
      out[`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`] = String(
        o.metadata.generation ?? o.metadata.resourceVersion,
      );
  }
  return out;
}

test.before(async () => {
  const c = await createCluster({ name: NAME, nodes: 2 });
  kubeconfig = c.kubeconfig;
  kubectl = kubectlFor(kubeconfig);
});

test.after(async () => {
  await deleteCluster(NAME, { quiet: true });
});

test('precheck passes on a fresh cluster; a dry run sends every object the API server can check', async () => {
  const pre = await trellis('precheck', '-o', 'json');
  ok(pre, 'precheck');
  assert.deepEqual(
    JSON.parse(pre.stdout).filter((r: { status: string }) => r.status === 'fail'),
    [],
  );
  const dry = await trellis('install', '--dry-run');
  ok(dry, 'install --dry-run');
  assert.match(
    dry.stderr,
    /Gateway API CRDs missing: would apply 12 objects from the bundled release/,
  );
  assert.match(
    dry.stderr,
    /GatewayClass trellis-waypoint \(not checked: GatewayClass is not served until its CRD is installed\)/,
  );
  assert.match(dry.stderr, /ClusterRole trellis-cni \(dry run\)/);
  assert.match(
    dry.stderr,
    /DaemonSet trellis-system\/trellis-cni-node \(not checked: namespace trellis-system does not exist until the install creates it\)/,
  );
  assert.equal(
    kubectl.tryGet('namespace', 'trellis-system'),
    undefined,
    'a dry run changes nothing',
  );
});

test('install --profile minimal: the control plane is Ready; a second run changes nothing', async () => {
  const first = await trellis('install', '--profile', 'minimal', '--timeout', '3m');
  ok(first, 'install');
  assert.match(first.stderr, /Gateway API CRDs v1\.6\.1 applied/);
  assert.match(first.stderr, /Deployment trellis-system\/trellis-control-plane: 1\/1 ready/);
  assert.match(
    first.stderr,
    /Trellis \d+\.\d+\.\d+ is installed in trellis-system and Ready in [\d.]+s: trellis-control-plane 1\/1/,
  );
  const before = versions();
  assert.ok(Object.keys(before).length >= 14, JSON.stringify(before));
  const again = await trellis('install', '--profile', 'minimal');
  ok(again, 'install again');
  assert.match(again.stderr, /is installed: re-applying/);
  assert.deepEqual(versions(), before, 'a re-run with the same settings changes no object');
});

test('every manifest passes server-side dry run once the CRDs are in', async () => {
  const dry = await trellis('install', '--dry-run');
  ok(dry, 'install --dry-run');
  assert.match(
    dry.stderr,
    /Dry run: the API server accepted (\d+) of \1 objects; nothing was changed/,
  );
});

test("the API server refuses bad policies with the CRDs' messages and accepts good ones (v1 and v1beta1)", () => {
  const bad: [string, RegExp[]][] = [
    [
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, namespace: default}\nspec:\n  selector: {matchLabels: {app: web}}\n  targetRefs: [{kind: Service, name: web}]\n  rules: [{from: [{source: {serviceAccounts: ["sa"], principals: ["p"]}}]}]\n',
      [
        /set at most one of selector, targetRef and targetRefs/,
        /serviceAccounts and notServiceAccounts cannot be combined with principals/,
      ],
    ],
    [
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: b, namespace: default}\nspec: {action: DENYY}\n',
      [
        /spec.action: Unsupported value: "DENYY": supported values: "ALLOW", "DENY", "AUDIT", "CUSTOM"/,
      ],
    ],
    [
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: c, namespace: default}\nspec: {selector: {matchLabels: {app: "we*"}}}\n',
      [/a label value to match may not contain a wildcard/],
    ],
    [
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d, namespace: default}\nspec: {targetRef: {kind: Service, name: web, namespace: other}}\n',
      [/targetRef.namespace must be empty/],
    ],
    [
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: e, namespace: default}\nspec: {portLevelMtls: {"8080": {mode: DISABLE}}}\n',
      [/portLevelMtls needs a selector with matchLabels/],
    ],
    [
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: f, namespace: default}\nspec: {selector: {matchLabels: {app: x}}, portLevelMtls: {"0": {mode: DISABLE}}}\n',
      [/portLevelMtls keys must be ports from 1 to 65535/],
    ],
    [
      'apiVersion: security.istio.io/v1beta1\nkind: RequestAuthentication\nmetadata: {name: g, namespace: default}\nspec: {jwtRules: [{issuer: i, jwksUri: "ftp://k", jwks: "{}", timeout: 0s}]}\n',
      [
        /set at most one of jwks, jwksUri and jwks_uri/,
        /the JWKS URL must start with http:\/\/ or https:\/\//,
        /timeout must be a duration of at least 1ms/,
      ],
    ],
    [
      'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: h, namespace: default}\nspec: {jwtRules: [{issuer: i, outputClaimToHeaders: [{header: "x y", claim: c}]}]}\n',
      [/outputClaimToHeaders\[0\].header in body should match/],
    ],
    [
      'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: i, namespace: default}\nspec:\n  trafficPolicy:\n    loadBalancer: {simple: FASTEST}\n    connectionPool: {tcp: {maxConnections: -1}}\n',
      [
        /spec.host: Required value/,
        /spec.trafficPolicy.loadBalancer.simple: Unsupported value: "FASTEST"/,
        /maxConnections: Invalid value: -1/,
      ],
    ],
    [
      'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: j, namespace: default}\nspec: {host: web, trafficPolicy: {connectionPool: {tcp: {connectTimeout: 0s}}}}\n',
      [/connectTimeout must be a duration of at least 1ms/],
    ],
  ];
  for (const [yaml, messages] of bad) {
    const r = kubectlApply(yaml);
    assert.equal(r.ok, false, `accepted:\n${yaml}`);
    for (const m of messages) assert.match(r.stderr, m);
  }
  const good = kubectlApply(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-client, namespace: default}
spec:
  selector: {matchLabels: {app: echo}}
  action: ALLOW
  rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/client]}}], to: [{operation: {ports: ["8080"]}}]}]
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: strict, namespace: default}
spec: {selector: {matchLabels: {app: echo}}, mtls: {mode: STRICT}, portLevelMtls: {"9090": {mode: PERMISSIVE}}}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: default}
spec: {jwtRules: [{issuer: https://issuer.example, jwksUri: https://issuer.example/keys, timeout: 5s}]}
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: echo, namespace: default}
spec:
  host: echo
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}, outlierDetection: {consecutive5xxErrors: 3, interval: 5s}}
  subsets: [{name: v1, labels: {version: v1}}]
`);
  assert.equal(good.ok, true, good.stderr);
  assert.equal(
    kubectl.getJson('peerauthentications.v1.security.istio.io', '-n', 'default', 'strict').spec.mtls
      .mode,
    'STRICT',
  );
});

test('status, proxy-status and version describe the install', async () => {
  const status = await trellis('status');
  ok(status, 'status');
  assert.match(
    status.stdout,
    /control-plane\s+Deployment trellis-system\/trellis-control-plane\s+OK\s+1\/1 ready/,
  );
  assert.match(status.stderr, /\(profile minimal\) is installed and Ready/);
  const json = JSON.parse((await trellis('verify-install', '-o', 'json')).stdout);
  assert.deepEqual([json.installed, json.ready, json.profile], [true, true, 'minimal']);
  const proxies = await trellis('proxy-status');
  ok(proxies, 'proxy-status');
  assert.equal(proxies.stdout, 'no proxies are connected to the control plane\n');
  assert.match((await trellis('version')).stdout, /control plane\s+\d+\.\d+\.\d+/);
});

test('upgrade in place: new settings roll out; status checks what was asked', async () => {
  const r = await trellis(
    'install',
    '--profile',
    'minimal',
    '--set',
    'controlPlane.replicas=2',
    '--timeout',
    '3m',
  );
  ok(r, 'install replicas=2');
  assert.equal(
    kubectl.getJson('deployment', '-n', 'trellis-system', 'trellis-control-plane').status
      .readyReplicas,
    2,
  );
  const status = JSON.parse((await trellis('status', '-o', 'json')).stdout);
  assert.deepEqual([status.ready, status.settings], [true, { 'controlPlane.replicas': 2 }]);
});

test('changing the profile deletes what the new one does not have', async () => {
  ok(
    await trellis('install', '--set', 'cni.enabled=false', '--wait=false'),
    'install default without cni',
  );
  assert.ok(kubectl.tryGet('daemonset', '-n', 'trellis-system', 'ztunnel'));
  const back = await trellis('install', '--profile', 'minimal', '--timeout', '3m');
  ok(back, 'install minimal');
  assert.match(
    back.stderr,
    /deleted DaemonSet trellis-system\/ztunnel \(no longer part of the install\)/,
  );
  assert.match(back.stderr, /deleted ServiceAccount trellis-system\/ztunnel/);
  assert.equal(kubectl.tryGet('daemonset', '-n', 'trellis-system', 'ztunnel'), undefined);
});

test('a rollout that cannot converge says which pod holds it up and why, then times out naming it; re-running install repairs it', async () => {
  const r = await trellis(
    'install',
    '--profile',
    'minimal',
    '--set',
    'images.registry=registry.invalid',
    '--timeout',
    '40s',
  );
  assert.equal(r.status, 1, r.stderr);
  // 15 s without progress: the wait says what it is waiting for before the timeout does (the
  // Deployment's counts depend on the tests before: the install may be a re-apply, and an old pod
  // that goes away is progress, so the timeout leaves room for one more change).
  assert.match(
    r.stderr,
    /Still waiting after [\d.]+s for:\n {2}Deployment trellis-system\/trellis-control-plane: [^\n]*\n {4}pod trellis-control-plane-\S+ on node cli\d+-node\d: container control-plane: CreateContainerConfigError/,
  );
  assert.match(
    r.stderr,
    /timed out after 40s waiting for:\n {2}Deployment trellis-system\/trellis-control-plane: /,
  );
  assert.match(
    r.stderr,
    /pod trellis-control-plane-[a-z0-9]+-[a-z0-9]+ on node cli\d+-node\d: container control-plane: CreateContainerConfigError.*registry\.invalid\/trellis\/control-plane/,
  );
  assert.match(r.stderr, /trellis install is safe to run again/);
  ok(await trellis('install', '--profile', 'minimal', '--timeout', '3m'), 'install repairs');
});

test('waypoints: apply (Programmed by the control plane), list, status, delete', async () => {
  const apply = await trellis(
    'waypoint',
    'apply',
    '-n',
    'default',
    '--enroll-namespace',
    '--timeout',
    '90s',
  );
  ok(apply, 'waypoint apply');
  assert.match(apply.stderr, /namespace default labelled istio.io\/use-waypoint=waypoint/);
  assert.match(apply.stderr, /waypoint default\/waypoint is Programmed/);
  const list = await trellis('waypoint', 'list');
  assert.match(list.stdout, /default\s+waypoint\s+service\s+True\s+\d+\.\d+\.\d+\.\d+\n/);
  const status = await trellis('waypoint', 'status', '-n', 'default');
  ok(status, 'waypoint status');
  assert.match(status.stdout, /used by: namespace default/);
  ok(await trellis('waypoint', 'delete', '--all', '-n', 'default'), 'waypoint delete');
  assert.equal(
    kubectl.getJson('namespace', 'default').metadata.labels['istio.io/use-waypoint'],
    undefined,
  );
  const missing = await trellis('waypoint', 'delete', 'nope', '-n', 'default');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no waypoint default\/nope/);
});

test('analyze finds a policy selecting nothing and a use-waypoint label naming no waypoint', async () => {
  kubectl.run(['create', 'namespace', 'shop']);
  kubectl.run(['label', 'namespace', 'shop', 'istio.io/use-waypoint=missing']);
  assert.ok(
    kubectlApply(
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: typo, namespace: shop}\nspec: {selector: {matchLabels: {app: wbe}}}\n',
    ).ok,
  );
  const r = await trellis('analyze', '-o', 'json');
  assert.equal(r.status, 3, r.stderr);
  const findings = JSON.parse(r.stdout).map(
    (f: { code: string; object: string }) => `${f.code} ${f.object}`,
  );
  assert.ok(findings.includes('TR0001 AuthorizationPolicy shop/typo'), findings.join('\n'));
  assert.ok(findings.includes('TR0002 Namespace shop'), findings.join('\n'));
  const table = await trellis('analyze', '-n', 'shop');
  assert.match(
    table.stdout,
    /TR0002\s+ERROR\s+Namespace shop\s+istio.io\/use-waypoint=missing names waypoint shop\/missing/,
  );
  // A mistyped namespace is an error, not "No problems found".
  const typo = await trellis('analyze', '-n', 'shpo');
  assert.equal(typo.status, 1, typo.stdout);
  assert.match(typo.stderr, /namespace shpo does not exist \(-n\)/);
});

test('uninstall --purge leaves nothing behind; install works again; uninstall keeps CRDs without --purge', async () => {
  const r = await trellis('uninstall', '--purge');
  ok(r, 'uninstall --purge');
  assert.match(r.stderr, /Trellis uninstalled: \d+ objects deleted/);
  // The waits say how long they took (where a slow uninstall spent its time).
  assert.match(r.stderr, /namespace trellis-system gone after \d+\.\d s/);
  assert.deepEqual(versions(), {}, 'no object labelled part of Trellis remains');
  const crds = kubectl
    .getJson('crds')
    .items.map((c: { metadata: { name: string } }) => c.metadata.name);
  assert.deepEqual(
    crds.filter((n: string) => n.endsWith('.istio.io') || n.endsWith('.gateway.networking.k8s.io')),
    [],
  );
  assert.deepEqual(
    kubectl.getJson('configmaps', '-A', '--field-selector', 'metadata.name=istio-ca-root-cert')
      .items,
    [],
  );
  assert.equal(kubectl.tryGet('namespace', 'trellis-system'), undefined);
  assert.deepEqual(
    kubectl.getJson('clusterroles', '-l', 'app.kubernetes.io/part-of=trellis').items,
    [],
  );

  ok(await trellis('install', '--profile', 'minimal', '--timeout', '3m'), 'reinstall');
  const keep = await trellis('uninstall');
  ok(keep, 'uninstall');
  assert.match(
    keep.stderr,
    /Kept: 4 Istio CRDs \(security\.istio\.io, DestinationRule; with their objects\) and 0 waypoint Gateways; trellis uninstall --purge removes them/,
  );
  assert.equal(kubectl.tryGet('namespace', 'trellis-system'), undefined);
});

test('a kubeconfig that does not exist, and an unknown context, are refused with what to do', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(
    process.execPath,
    [CLI, 'status', '--kubeconfig', join('/nonexistent', 'k.yaml')],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /kubeconfig \/nonexistent\/k.yaml does not exist \(--kubeconfig\)/);
  const c = await trellis('status', '--context', 'prod');
  assert.equal(c.status, 1);
  assert.match(c.stderr, /context "prod" is not in the kubeconfig \(--context\); it has: /);
});
