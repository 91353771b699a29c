// The kubelet API of the node emulators and cluster DNS, against a real 2-node cluster with the
// upstream kubectl and client-go's SPDY executor (tools/spdy-client): exec (exit codes, stdin,
// TTY with resize), attach (output, stdin, the end of the container), port-forward (several ports,
// concurrent connections, a refused port), refusal of unauthenticated and unauthorized callers on
// :10250, resolv.conf per dnsPolicy and lookups through CoreDNS, and an emulator restart that
// adopts its running pods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { get as httpGet } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCluster, deleteCluster, layoutOf, restartNodeEmulator } from '../cluster.js';
import { builtGoTool, kubeBinDir, requireKubeBinaries, PACKAGE_ROOT } from '../paths.js';
import { isAlive } from '../processes.js';
import { connect, createServer, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { Exec, KubeConfig, PortForward } from '@kubernetes/client-node';
import { WebSocket } from 'ws';

const NAME = `lck${process.pid}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

test(
  'kubectl and client-go exec, port-forward, DNS and emulator restarts work; :10250 refuses strangers',
  { timeout: 15 * 60_000 },
  async (t) => {
    assert.equal(process.getuid?.(), 0, 'needs root (netns, bridges, mounts)');
    const kubectlBin = `${requireKubeBinaries(kubeBinDir())}/kubectl`;
    const spdyClient = `${builtGoTool('spdy-client')}/trellis-spdy-client`;
    const c = await createCluster({ name: NAME, nodes: 2 });
    const env = { ...process.env, KUBECONFIG: c.kubeconfig };
    const kubectl = (args: string[], input?: string) =>
      spawnSync(kubectlBin, args, { env, encoding: 'utf8', input, timeout: 60_000 });
    const ok = (args: string[], input?: string) => {
      const r = kubectl(args, input);
      assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const pod = (name: string): Any => JSON.parse(ok(['get', 'pod', name, '-o', 'json']));
    try {
      ok(['apply', '-f', `${PACKAGE_ROOT}/testdata/streaming.yaml`]);
      ok([
        'wait',
        '--for=condition=Ready',
        'pod/shell',
        'pod/web',
        'pod/dns-none',
        '--timeout=120s',
      ]);
      const l = layoutOf(NAME);

      await t.test('kubectl exec: output, stderr, env, exit code, pod netns and mounts', () => {
        const r = kubectl([
          'exec',
          'shell',
          '--',
          'sh',
          '-c',
          'echo out; echo err >&2; echo FOO=$FOO; ip -4 -o addr show eth0; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; exit 3',
        ]);
        assert.equal(r.status, 3, r.stderr);
        assert.match(r.stdout, /^out\nFOO=bar\n/);
        assert.match(
          r.stdout,
          new RegExp(`inet ${pod('shell').status.podIP.replaceAll('.', '\\.')}/`),
        );
        assert.match(
          r.stdout,
          /^default$/m,
          'the service-account volume of the container is visible',
        );
        assert.match(r.stderr, /^err$/m);
        assert.match(r.stderr, /command terminated with exit code 3/);
        const big = 'x'.repeat(200_000);
        assert.equal(ok(['exec', '-i', 'shell', '--', 'wc', '-c'], big).trim(), '200000');
      });

      await t.test('kubectl exec -it in a terminal gets a pty of the terminal size', () => {
        const r = spawnSync(
          'script',
          [
            '-q',
            '-e',
            '-c',
            `stty rows 33 cols 101; ${kubectlBin} exec -it shell -- sh -c 'tty; stty size; exit 5'`,
            '/dev/null',
          ],
          { env, encoding: 'utf8', input: '', timeout: 60_000 },
        );
        assert.equal(r.status, 5, r.stdout);
        assert.match(r.stdout, /\/dev\/pts\/\d+/);
        assert.match(r.stdout, /33 101/);
      });

      await t.test('client-go SPDY exec: stdin, exit codes, TTY and resize', () => {
        const a = spawnSync(
          spdyClient,
          ['exec', '--pod', 'shell', '--stdin', '--', 'sh', '-c', 'cat; echo e >&2; exit 4'],
          {
            env,
            encoding: 'utf8',
            input: 'piped through SPDY\n',
            timeout: 60_000,
          },
        );
        assert.equal(a.status, 4, a.stderr);
        assert.equal(a.stdout, 'piped through SPDY\n');
        assert.match(a.stderr, /^e$/m);
        // The client sends both sizes at once, so the resize may land before the command's first
        // look: the first size is checked alone, the resize by the size the terminal reaches
        // within ten seconds (it lands when the pseudo-terminal exists, later on a loaded machine).
        const sized = (sizes: string[], script: string) => {
          const r = spawnSync(
            spdyClient,
            ['exec', '--pod', 'shell', '--tty', ...sizes, '--', 'sh', '-c', script],
            { env, encoding: 'utf8', timeout: 60_000 },
          );
          assert.equal(r.status, 0, r.stderr);
          return r.stdout.replaceAll('\r', '').trim().split('\n');
        };
        assert.deepEqual(sized(['--size', '100x30'], 'stty size'), ['30 100']);
        assert.equal(
          sized(
            ['--size', '100x30', '--resize', '120x40'],
            'for i in $(seq 100); do s=$(stty size); [ "$s" = "40 120" ] && break; sleep 0.1; done; echo "$s"',
          ).at(-1),
          '40 120',
        );
      });

      await t.test(
        'port-forward: kubectl and client-go, two ports, concurrent requests',
        async () => {
          for (const client of ['kubectl', 'spdy'] as const) {
            const args =
              client === 'kubectl'
                ? [kubectlBin, 'port-forward', 'pod/web', ':8080', ':9090']
                : [spdyClient, 'port-forward', '--pod', 'web', '8080', '9090'];
            const pf = spawn(args[0]!, args.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
            try {
              const ports = await forwardedPorts(pf, client, 2);
              const bodies = await Promise.all(
                Array.from({ length: 20 }, (_, i) =>
                  fetchText(ports.get(i % 2 ? 9090 : 8080)!, `/r${i}`),
                ),
              );
              bodies.forEach((b, i) => {
                const j = JSON.parse(b);
                assert.equal(j.pod, i % 2 ? 'echo-b' : 'echo-a');
                assert.equal(j.path, `/r${i}`);
              });
            } finally {
              pf.kill();
            }
          }
          // A port nobody listens on: the kubelet's error reaches the client.
          const pf = spawn(spdyClient, ['port-forward', '--pod', 'web', '7777'], {
            env,
            stdio: ['pipe', 'pipe', 'pipe'],
          });
          let stderr = '';
          pf.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          try {
            const ports = await forwardedPorts(pf, 'spdy', 1);
            await fetchText(ports.get(7777)!, '/').catch(() => undefined);
            for (let i = 0; i < 300 && !/ECONNREFUSED/.test(stderr); i++) await sleep(100);
            assert.match(stderr, /error forwarding port 7777 to pod default\/web.*ECONNREFUSED/);
          } finally {
            pf.kill();
          }
        },
      );

      await t.test(
        'WebSocket: client-node port-forward and exec, v4 passed through by the apiserver, v5 and base64 on :10250',
        async () => {
          const kc = new KubeConfig();
          kc.loadFromFile(c.kubeconfig);
          // client-node speaks WebSocket only; the apiserver passes its port-forward through.
          const forwarder = new PortForward(kc);
          const errors: string[] = [];
          const local = createServer((sock) => {
            const err = new PassThrough();
            err.on('data', (d: Buffer) => errors.push(d.toString()));
            sock.on('error', () => undefined);
            void forwarder.portForward('default', 'web', [8080], sock, err, sock);
          });
          const refusing = createServer((sock) => {
            const err = new PassThrough();
            err.on('data', (d: Buffer) => errors.push(d.toString()));
            sock.on('error', () => undefined);
            void forwarder.portForward('default', 'web', [7777], sock, err, sock);
          });
          const relay = { port: 0 };
          await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
          await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
          relay.port = (local.address() as AddressInfo).port;
          try {
            const bodies = await Promise.all(
              Array.from({ length: 10 }, (_, i) => fetchText(relay.port, `/ws${i}`)),
            );
            bodies.forEach((b, i) => assert.equal(JSON.parse(b).path, `/ws${i}`));
            // (client-node leaves the local connection open when the node closes the stream.)
            const probe = connect((refusing.address() as AddressInfo).port, '127.0.0.1');
            probe.on('error', () => undefined);
            for (let i = 0; i < 300 && !errors.join('').includes('7777'); i++) await sleep(100);
            probe.destroy();
            assert.match(
              errors.join(''),
              /error forwarding port 7777 to pod default\/web.*ECONNREFUSED/,
            );
          } finally {
            local.close();
            refusing.close();
          }

          // client-node exec (v5: the apiserver translates it to SPDY towards the node).
          const out = new PassThrough();
          let stdout = '';
          out.on('data', (d: Buffer) => (stdout += d.toString()));
          const status = await new Promise<Any>((resolve) => {
            void new Exec(kc).exec(
              'default',
              'shell',
              'sh',
              ['sh', '-c', 'echo hi; exit 3'],
              out,
              null,
              null,
              false,
              resolve,
            );
          });
          assert.equal(stdout, 'hi\n');
          assert.equal(status.reason, 'NonZeroExitCode');

          // A v4 WebSocket exec is passed through to the node as it is.
          const pki = `${l.stateDir}/pki`;
          const admin = {
            ca: readFileSync(`${pki}/ca.crt`),
            cert: readFileSync(`${pki}/admin.crt`),
            key: readFileSync(`${pki}/admin.key`),
          };
          const api = c.apiServer.replace(/^https/, 'wss');
          // The apiserver's query names the streams stdin/stdout/stderr, the kubelet's input/output/error.
          const execQuery = (cmd: string[], stdin: boolean, kubelet = false) =>
            cmd.map((x) => `command=${encodeURIComponent(x)}&`).join('') +
            (kubelet
              ? `output=1&error=1${stdin ? '&input=1' : ''}`
              : `stdout=true&stderr=true${stdin ? '&stdin=true' : ''}`);
          const v4 = await wsSession(
            `${api}/api/v1/namespaces/default/pods/shell/exec?container=sh&${execQuery(['head', '-c', '5'], true)}`,
            ['v4.channel.k8s.io'],
            admin,
            (ws) => ws.send(Buffer.from('\0hello')),
          );
          assert.equal(v4.protocol, 'v4.channel.k8s.io');
          assert.equal(v4.channels.get(1)?.toString(), 'hello');
          assert.equal(JSON.parse(v4.channels.get(3)!.toString()).status, 'Success');

          const b64 = await wsSession(
            `${api}/api/v1/namespaces/default/pods/shell/exec?container=sh&${execQuery(['sh', '-c', 'echo out; echo err >&2; exit 3'], false)}`,
            ['v4.base64.channel.k8s.io'],
            admin,
          );
          assert.equal(b64.protocol, 'v4.base64.channel.k8s.io');
          assert.equal(b64.channels.get(1)?.toString(), 'out\n');
          assert.equal(b64.channels.get(2)?.toString(), 'err\n');
          assert.equal(JSON.parse(b64.channels.get(3)!.toString()).reason, 'NonZeroExitCode');

          // v5 straight to the node: the client's CLOSE of stdin is EOF for the command.
          const node = l.nodes.find((n) => n.name === pod('shell').spec.nodeName)!;
          const kubelet = `wss://${node.ip}:10250/exec/default/shell/sh?${execQuery(['wc', '-c'], true, true)}`;
          const v5 = await wsSession(kubelet, ['v5.channel.k8s.io'], admin, (ws) => {
            ws.send(Buffer.from('\0abcdef'));
            ws.send(Buffer.from([255, 0]));
          });
          assert.equal(v5.protocol, 'v5.channel.k8s.io');
          assert.equal(v5.channels.get(1)?.toString().trim(), '6');
          // Authorized as the SPDY path is: kube-proxy may not use nodes/proxy.
          const denied = await wsSession(kubelet, ['v5.channel.k8s.io'], {
            ca: admin.ca,
            cert: readFileSync(`${pki}/kube-proxy.crt`),
            key: readFileSync(`${pki}/kube-proxy.key`),
          }).catch((e: Error) => e.message);
          assert.match(String(denied), /Unexpected server response: 403/);
        },
      );

      await t.test(
        ':10250 refuses callers without a certificate or without nodes/proxy',
        async () => {
          const node = l.nodes[0]!;
          const pki = `${l.stateDir}/pki`;
          const ca = readFileSync(`${pki}/ca.crt`);
          const call = (
            method: string,
            path: string,
            creds: { cert?: Buffer; key?: Buffer; token?: string },
          ) => kubeletCall(node.ip, method, path, ca, creds);
          assert.equal((await call('GET', '/healthz', {})).status, 401);
          const proxyCert = {
            cert: readFileSync(`${pki}/kube-proxy.crt`),
            key: readFileSync(`${pki}/kube-proxy.key`),
          };
          const denied = await call(
            'POST',
            '/exec/default/shell/sh?command=id&output=1',
            proxyCert,
          );
          assert.equal(denied.status, 403);
          assert.match(
            denied.body,
            /Forbidden \(user=system:kube-proxy, verb=create, resource=nodes, subresource\(s\)=\[proxy\]\)/,
          );
          const token = ok(['create', 'token', 'default']).trim();
          assert.equal(
            (await call('GET', '/containerLogs/default/shell/sh', { token })).status,
            403,
          );
          const admin = {
            cert: readFileSync(`${pki}/admin.crt`),
            key: readFileSync(`${pki}/admin.key`),
          };
          const healthy = await call('GET', '/healthz', admin);
          assert.deepEqual([healthy.status, healthy.body], [200, 'ok']);
        },
      );

      await t.test(
        'cluster DNS: resolv.conf per dnsPolicy, Services by short and full name',
        () => {
          const resolv = ok(['exec', 'shell', '--', 'cat', '/etc/resolv.conf']);
          assert.equal(
            resolv.split('\n').slice(0, 3).join('\n'),
            `search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${l.clusterDNSIP}\noptions ndots:5`,
          );
          assert.equal(
            ok(['exec', 'dns-none', '--', 'cat', '/etc/resolv.conf']),
            'search corp.example\nnameserver 192.0.2.1\noptions ndots:2\n',
          );
          const webIP = JSON.parse(ok(['get', 'service', 'web', '-o', 'json'])).spec.clusterIP;
          const lookup = (name: string) =>
            kubectl(['exec', 'shell', '--', 'getent', 'hosts', name]);
          assert.match(
            lookup('kubernetes.default').stdout,
            new RegExp(`^${l.kubernetesServiceIP.replaceAll('.', '\\.')}\\s`),
          );
          assert.match(lookup('web').stdout, new RegExp(`^${webIP.replaceAll('.', '\\.')}\\s`));
          assert.match(
            lookup('web.default.svc.cluster.local').stdout,
            new RegExp(`^${webIP.replaceAll('.', '\\.')}\\s`),
          );
          const external = lookup('www.example.com');
          assert.notEqual(external.status, 0, 'a name outside the cluster does not resolve');
          assert.equal(external.signal, null, 'and fails at once instead of hanging');
        },
      );

      await t.test('a startup probe holds readiness back until it succeeds', async () => {
        const marker = `/tmp/trellis-started-${process.pid}`;
        ok(['apply', '-f', '-'], JSON.stringify(slowStartPod(marker)));
        try {
          // Looked at as soon as the container runs (it touches the marker 8 s later).
          let early: Any;
          for (let i = 0; i < 300 && !early?.state?.running; i++) {
            await sleep(100);
            early = pod('slow-start').status.containerStatuses?.[0];
          }
          assert.ok(early?.state?.running, `the container runs: ${JSON.stringify(early)}`);
          assert.equal(early.started, false, 'not started while the startup probe fails');
          assert.equal(early?.ready, false);
          ok(['wait', '--for=condition=Ready', 'pod/slow-start', '--timeout=60s']);
          assert.equal(pod('slow-start').status.containerStatuses[0].started, true);
        } finally {
          kubectl(['delete', 'pod', 'slow-start', '--wait=false']);
        }
      });

      await t.test(
        'kubectl attach: output from then on, stdin into a stdin: true container, ends when it exits',
        async () => {
          ok(['apply', '-f', '-'], JSON.stringify(attachedPod()));
          try {
            ok(['wait', '--for=condition=Ready', 'pod/attached', '--timeout=60s']);
            for (let i = 0; i < 100 && !ok(['logs', 'attached']).includes('waiting'); i++)
              await sleep(100);
            const a = spawn(kubectlBin, ['attach', '-i', 'attached'], {
              env,
              stdio: ['pipe', 'pipe', 'pipe'],
            });
            let out = '';
            let err = '';
            a.stdout.on('data', (d: Buffer) => (out += d.toString()));
            a.stderr.on('data', (d: Buffer) => (err += d.toString()));
            const exited = new Promise<number | null>((resolve) => a.on('exit', resolve));
            try {
              a.stdin.write('hello\n');
              for (let i = 0; i < 300 && !out.includes('got hello'); i++) await sleep(100);
              assert.equal(out, 'got hello\n', `stdout ${out}, stderr ${err}`);
              a.stdin.write('second line\nquit\n');
              const code = await Promise.race([
                exited,
                sleep(30_000, undefined, { ref: false }).then(() => 'hung'),
              ]);
              assert.equal(code, 0, `kubectl attach ended: ${err}`);
              assert.equal(
                out,
                'got hello\ngot second line\nbye\n',
                'stdout and stderr (one log) arrive on stdout, the last line before exit included',
              );
            } finally {
              a.kill();
            }
            const status = pod('attached').status.containerStatuses[0];
            assert.equal(status.state.terminated?.exitCode, 7, JSON.stringify(status));
          } finally {
            kubectl(['delete', 'pod', 'attached', '--wait=false']);
          }
        },
      );

      await t.test(
        'a restarted node emulator adopts its pods: same processes, still Ready',
        async () => {
          const before = pod('web');
          const pids = before.status.containerStatuses.map((s: Any) => s.containerID);
          const readySince = before.status.conditions.find(
            (x: Any) => x.type === 'Ready',
          ).lastTransitionTime;
          await restartNodeEmulator(NAME, before.spec.nodeName);
          const log = `${l.stateDir}/logs/node-${before.spec.nodeName}.log`;
          for (
            let i = 0;
            i < 120 && !readFileSync(log, 'utf8').includes('pod default/web: adopted');
            i++
          )
            await sleep(250);
          assert.match(readFileSync(log, 'utf8'), /pod default\/web: adopted/);
          await sleep(3000);
          const after = pod('web');
          assert.deepEqual(
            after.status.containerStatuses.map((s: Any) => s.containerID),
            pids,
            'same container processes',
          );
          const ready = after.status.conditions.find((x: Any) => x.type === 'Ready');
          assert.deepEqual(
            [ready.status, ready.lastTransitionTime],
            ['True', readySince],
            'Ready all along',
          );
          assert.deepEqual(
            after.status.containerStatuses.map((s: Any) => s.restartCount),
            [0, 0],
          );
          assert.equal(ok(['exec', 'web', '-c', 'b', '--', 'echo', 'still here']), 'still here\n');
          ok(['delete', 'pod', 'web', '--wait=true', '--timeout=60s']);
          for (const id of pids)
            assert.equal(isAlive(Number(id.replace('trellis://', ''))), false, `${id} stopped`);
        },
      );
    } finally {
      await deleteCluster(NAME);
    }
  },
);

/** Local ports of a port-forward, by pod port, from kubectl's or trellis-spdy-client's output. */
function forwardedPorts(
  p: ReturnType<typeof spawn>,
  client: 'kubectl' | 'spdy',
  want: number,
): Promise<Map<number, number>> {
  return new Promise((resolve, reject) => {
    const ports = new Map<number, number>();
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`no forwarded ports from ${client}: ${text}`)),
      30_000,
    );
    const onData = (d: Buffer) => {
      text += d.toString();
      const re =
        client === 'kubectl'
          ? /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g
          : /ready (\d+) (\d+)/g;
      for (const m of text.matchAll(re)) ports.set(Number(m[2]), Number(m[1]));
      if (ports.size >= want) {
        clearTimeout(timer);
        resolve(ports);
      }
    };
    p.stdout!.on('data', onData);
    p.on('exit', () => reject(new Error(`${client} port-forward exited: ${text}`)));
  });
}

function fetchText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    })
      .on('timeout', function (this: { destroy(e: Error): void }) {
        this.destroy(new Error('timeout'));
      })
      .on('error', reject);
  });
}

function kubeletCall(
  ip: string,
  method: string,
  path: string,
  ca: Buffer,
  creds: { cert?: Buffer; key?: Buffer; token?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: ip,
        port: 10250,
        method,
        path,
        ca,
        cert: creds.cert,
        key: creds.key,
        headers: creds.token ? { authorization: `Bearer ${creds.token}` } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      },
    );
    r.on('error', reject);
    r.end();
  });
}

/** One WebSocket streaming session: what arrived per channel (base64 decoded) until it closed. */
function wsSession(
  url: string,
  protocols: string[],
  tls: { ca: Buffer; cert: Buffer; key: Buffer },
  onOpen?: (ws: WebSocket) => void,
): Promise<{ protocol: string; channels: Map<number, Buffer> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, tls);
    const channels = new Map<number, Buffer>();
    ws.on('open', () => onOpen?.(ws));
    ws.on('message', (m: Buffer, binary: boolean) => {
      const [ch, data] = binary
        ? [m[0]!, m.subarray(1)]
        : [m[0]! - 48, Buffer.from(m.subarray(1).toString(), 'base64')];
      channels.set(ch, Buffer.concat([channels.get(ch) ?? Buffer.alloc(0), data]));
    });
    ws.on('error', reject);
    ws.on('close', () => resolve({ protocol: ws.protocol, channels }));
  });
}

/** Reads lines on stdin (spec.stdin), answers each on stdout; "quit" says bye on stderr and exits 7. */
function attachedPod(): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'attached' },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: 'busybox',
          stdin: true,
          command: [
            'sh',
            '-c',
            'echo waiting; while read -r l; do if [ "$l" = quit ]; then echo bye >&2; exit 7; fi; echo "got $l"; done',
          ],
        },
      ],
    },
  };
}

function slowStartPod(marker: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'slow-start' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: 'busybox',
          command: ['sh', '-c', `rm -f ${marker}; sleep 8; touch ${marker}; exec sleep 3600`],
          startupProbe: {
            exec: { command: ['test', '-f', marker] },
            periodSeconds: 1,
            failureThreshold: 60,
          },
        },
      ],
    },
  };
}
