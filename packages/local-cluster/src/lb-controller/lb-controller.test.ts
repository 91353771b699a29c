// End to end on this host, as root: a 2-node local cluster's load-balancer controller gives
// LoadBalancer Services addresses the host reaches (curl and Node's fetch), honours
// externalTrafficPolicy Local, releases addresses on type change and deletion, honours the
// addresses a Service asks for (or says with a status condition why it cannot), adopts them after a
// restart, and `cluster delete` leaves no route behind. Bad --lb-range values fail before anything
// is created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { eventually, rootOnly } from '@trellis/core/test-support';
import { createCluster, deleteCluster, layoutOf, restartLbController } from '../cluster.js';
import { kubectlFor, type KubeObject } from '../kubectl.js';
import { PACKAGE_ROOT, clustersDir } from '../paths.js';
import { readPid, stopPid } from '../processes.js';
import { ANNOTATION_LB_IPS, CONDITION_LB_ADDRESS_ERROR } from './plan.pure.js';
import { inRange, intToIpv4, parseLbRange } from './range.pure.js';

const NAME = `lbt${process.pid}`;
const ROOT = rootOnly('netns, bridges, host routes');

function lbService(
  name: string,
  port: number,
  extra: object = {},
  annotations: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', annotations },
    spec: {
      type: 'LoadBalancer',
      selector: { app: 'echo' },
      ports: [{ name: 'http', port, targetPort: 'http' }],
      ...extra,
    },
  };
}

/** The host's route to `ip` (main table): its next hops, sorted; undefined when there is none. */
function hostRoute(ip: string): string[] | undefined {
  const routes = JSON.parse(
    execFileSync('ip', ['-4', '-j', 'route', 'show'], { encoding: 'utf8' }),
  );
  const r = routes.find((x: KubeObject) => x.dst === ip);
  if (!r) return undefined;
  return (r.nexthops ? r.nexthops.map((h: KubeObject) => h.gateway) : [r.gateway]).sort();
}

function curl(url: string): { ok: boolean; body: string; err: string } {
  const r = spawnSync('curl', ['-sS', '--max-time', '5', url], { encoding: 'utf8' });
  return { ok: r.status === 0, body: r.stdout, err: r.stderr };
}

test('a bad --lb-range is refused before anything is created', ROOT, async () => {
  const name = `lbb${process.pid}`;
  await assert.rejects(
    createCluster({ name, nodes: 1, lbRange: '10.200.0.5/28' }),
    /invalid --lb-range "10.200.0.5\/28": 10.200.0.5\/28 has host bits set; the block is 10.200.0.0\/28/,
  );
  await assert.rejects(
    createCluster({ name, nodes: 1, lbRange: '10.96.0.0/28' }),
    /--lb-range 10.96.0.0\/28 \(10.96.0.1-10.96.0.14\) overlaps 10.96.0.0\/12, the local clusters’ service ranges/,
  );
  // A network this host routes elsewhere (its default interface's, read from the host).
  const hostNet = (
    JSON.parse(
      execFileSync('ip', ['-4', '-j', 'route', 'show'], { encoding: 'utf8' }),
    ) as KubeObject[]
  ).find((r) => r.dst !== 'default' && r.protocol === 'kernel' && !String(r.dev).startsWith('tl-'));
  if (hostNet) {
    const base = String(hostNet.dst).split('/')[0]!;
    await assert.rejects(
      createCluster({ name, nodes: 1, lbRange: `${base}/32` }),
      new RegExp(`overlaps the host's route to ${hostNet.dst.replaceAll('.', '\\.')}`),
    );
  }
  assert.equal(existsSync(`${clustersDir()}/${name}`), false, 'no state dir left');
  assert.equal(spawnSync('ip', ['link', 'show', `tl-${name}`]).status, 1, 'no bridge left');
});

test(
  'LoadBalancer Services get host-reachable addresses that follow the Service',
  { ...ROOT, timeout: 15 * 60_000 },
  async (t) => {
    const c = await createCluster({ name: NAME, nodes: 2 });
    const l = layoutOf(NAME);
    const range = parseLbRange(l.lbRange);
    const nodeIPs = l.nodes.map((n) => n.ip).sort();
    const k = kubectlFor(c.kubeconfig);
    const ingressOf = (svc: string): KubeObject[] =>
      k.getJson('service', svc).status?.loadBalancer?.ingress ?? [];
    const addressOf = (svc: string, timeoutMs = 30_000) =>
      eventually(`an address for Service ${svc}`, () => ingressOf(svc)[0]?.ip as string, {
        timeoutMs,
        intervalMs: 100,
      });
    const answer = (url: string) =>
      eventually(
        `an answer from ${url}`,
        () => {
          const r = curl(url);
          return r.ok && (JSON.parse(r.body) as { pod: string; remoteIP: string; node: string });
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    const seen: string[] = [];
    try {
      k.run(['apply', '-f', `${PACKAGE_ROOT}/testdata/echo.yaml`]);
      k.run(['rollout', 'status', 'deployment/echo', '--timeout=180s']);

      // Two Services: distinct addresses within seconds, from the cluster's range.
      const started = Date.now();
      k.apply([lbService('lb1', 80), lbService('lb2', 8081)]);
      const ip1 = await addressOf('lb1');
      const ip2 = await addressOf('lb2');
      t.diagnostic(`both addresses in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      seen.push(ip1, ip2);
      assert.notEqual(ip1, ip2, 'two Services, two addresses');
      assert.ok(inRange(range, ip1) && inRange(range, ip2), `${ip1}, ${ip2} in ${l.lbRange}`);
      assert.deepEqual(ingressOf('lb2'), [
        { ip: ip2, ipMode: 'VIP', ports: [{ port: 8081, protocol: 'TCP' }] },
      ]);
      assert.deepEqual(hostRoute(ip1), nodeIPs, 'externalTrafficPolicy Cluster: via every node');
      const events = k.getJson('events', '--field-selector', 'involvedObject.name=lb1').items;
      assert.ok(
        events.some((e: KubeObject) => e.reason === 'IPAllocated' && e.message.includes(ip1)),
        'an IPAllocated event on the Service',
      );

      // From the host, with curl and with Node's fetch, to the echo pods.
      const pods = k
        .getJson('pods', '-l', 'app=echo')
        .items.map((p: KubeObject) => p.metadata.name);
      const viaCurl = await answer(`http://${ip2}:8081/hello`);
      assert.ok(pods.includes(viaCurl.pod), `answered by an echo pod (${viaCurl.pod})`);
      const viaFetch = (await eventually(
        `fetch http://${ip1}/`,
        async () => (await fetch(`http://${ip1}/`, { signal: AbortSignal.timeout(5000) })).json(),
        { timeoutMs: 30_000, intervalMs: 200 },
      )) as { pod: string; remoteIP: string };
      assert.ok(pods.includes(viaFetch.pod));
      assert.notEqual(
        viaFetch.remoteIP,
        l.hostIP,
        'Cluster policy: the node masquerades the client',
      );

      // externalTrafficPolicy Local: only nodes with an endpoint, and the client address is kept.
      k.run(['patch', 'service', 'lb2', '-p', '{"spec":{"externalTrafficPolicy":"Local"}}']);
      k.run(['scale', 'deployment/echo', '--replicas=1']);
      const only = await eventually(
        'one echo pod left',
        () => {
          const items = k
            .getJson('pods', '-l', 'app=echo')
            .items.filter((p: KubeObject) => !p.metadata.deletionTimestamp);
          return items.length === 1 && items[0];
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      const podNode = l.nodes.find((n) => n.name === only.spec.nodeName)!.ip;
      await eventually(
        `the route to ${ip2} via ${podNode} only`,
        () => hostRoute(ip2)?.join() === podNode,
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      // The route follows at once; the node's kube-proxy programs the Local rules on its own
      // schedule (a moment later on a loaded host), so the first answers may still be masqueraded.
      let local: { pod: string; remoteIP: string } | undefined;
      await eventually(
        `the client address kept at ${ip2}`,
        async () => {
          local = await answer(`http://${ip2}:8081/`);
          return local.remoteIP === l.hostIP;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      ).catch(() => undefined);
      assert.equal(local?.pod, only.metadata.name);
      assert.equal(local?.remoteIP, l.hostIP, 'Local policy keeps the client address');

      // Switched to ClusterIP: the address, its route and its reachability go.
      k.run(['patch', 'service', 'lb2', '-p', '{"spec":{"type":"ClusterIP"}}']);
      await eventually('lb2 to lose its address', () => ingressOf('lb2').length === 0, {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      await eventually(`no route to ${ip2}`, () => hostRoute(ip2) === undefined, 10_000);
      assert.equal(curl(`http://${ip2}:8081/`).ok, false, 'the old address answers no more');

      // Addresses asked for (MetalLB's annotation): one outside the range refuses the whole
      // request, with a status condition; two free ones of the range are both given and routed.
      const top = intToIpv4(range.last - 1);
      const top2 = intToIpv4(range.last - 2);
      const outside = intToIpv4(range.first - 1);
      const asking = (ips: string) =>
        lbService('lb6', 86, {}, { [ANNOTATION_LB_IPS]: ips }) as KubeObject;
      k.apply([asking(`${outside},${top}`)]);
      const refused = await eventually(
        'the LoadBalancerAddressError condition on lb6',
        () =>
          (k.getJson('service', 'lb6').status?.conditions ?? []).find(
            (x: KubeObject) => x.type === CONDITION_LB_ADDRESS_ERROR,
          ),
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      assert.equal(refused.status, 'True');
      assert.equal(refused.reason, 'AddressNotUsable');
      assert.match(refused.message, new RegExp(`${outside} is not in the cluster's load-balancer`));
      assert.deepEqual(ingressOf('lb6'), [], 'nothing of a request that cannot be met');
      assert.equal(hostRoute(top), undefined);
      k.apply([asking(`${top},${top2}`)]);
      await eventually('lb6 at both addresses', () => ingressOf('lb6').length === 2, {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      seen.push(top, top2);
      assert.deepEqual(
        ingressOf('lb6').map((i) => i.ip),
        [top, top2],
      );
      assert.equal(
        (k.getJson('service', 'lb6').status?.conditions ?? []).length,
        0,
        'the condition is removed once the addresses are given',
      );
      assert.equal((await answer(`http://${top}:86/`)).pod, only.metadata.name);
      assert.equal((await answer(`http://${top2}:86/`)).pod, only.metadata.name);

      // Deleted: the address is released (and goes to the next Service).
      k.run(['delete', 'service', 'lb1', '--wait=true']);
      await eventually(`no route to ${ip1}`, () => hostRoute(ip1) === undefined, 30_000);
      k.apply([lbService('lb3', 80)]);
      const ip3 = await addressOf('lb3');
      const free = [ip1, ip2].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      assert.equal(ip3, free[0], 'the lowest released address is given out again');

      // A restarted controller adopts what the Services show and cleans up what changed meanwhile.
      k.apply([lbService('lb5', 85)]);
      const ip5 = await addressOf('lb5');
      await eventually(`a route to ${ip5}`, () => hostRoute(ip5), 10_000);
      const pidFile = `${l.stateDir}/run/lb-controller.pid`;
      await stopPid(readPid(pidFile)!, 5000);
      k.run(['delete', 'service', 'lb5', '--wait=true']);
      k.apply([lbService('lb4', 84)]);
      assert.deepEqual(ingressOf('lb4'), [], 'no address while the controller is down');
      await restartLbController(NAME);
      const ip4 = await addressOf('lb4');
      assert.equal(ip4, ip5, "lb5's address, released while the controller was down, is reused");
      assert.equal(ingressOf('lb3')[0]?.ip, ip3, 'lb3 keeps its address');
      assert.deepEqual(hostRoute(ip3), nodeIPs);
      assert.equal((await answer(`http://${ip3}/`)).pod, only.metadata.name);
      assert.equal((await answer(`http://${ip4}:84/`)).pod, only.metadata.name);
      const log = readFileSync(`${l.stateDir}/logs/lb-controller.log`, 'utf8');
      assert.match(log, /SIGTERM: stopping/);
      seen.push(ip3, ip4);
    } finally {
      await deleteCluster(NAME);
    }
    const left = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
    assert.deepEqual(
      seen.filter((ip) => left.includes(`${ip} `)),
      [],
      'no load-balancer route left on the host',
    );
    assert.equal(spawnSync('ip', ['link', 'show', l.bridge]).status, 1, 'bridge removed');
  },
);
