// The Gateway API conformance suite's backends on a local cluster: the Deployments and Services of
// its base and mesh manifests (read unchanged from the Go module cache, where building
// tools/echo-basic put the conformance module), reached by Service name from other pods and
// answering in the formats the suite parses: echo-basic's JSON over HTTP and its grpcecho
// assertions over gRPC, the suite's CoreDNS answering whoami, and the `client` output of the mesh
// echo app (packages/echo, compatible with Istio's) over HTTP, gRPC, TCP and TLS, run through
// client-go's SPDY exec as the mesh tests run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createCluster, deleteCluster } from './cluster.js';
import { kubectlFor } from './kubectl.js';
import { builtGoTool, PACKAGE_ROOT, REPO_ROOT } from './paths.js';

const NAME = `lcg${process.pid}`;
const INFRA = 'gateway-conformance-infra';
const MESH = 'gateway-conformance-mesh';
const CONSUMER = 'gateway-conformance-mesh-consumer';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

test(
  "the conformance suite's echo-basic, echo-advanced and CoreDNS backends run and answer as the suite expects",
  { timeout: 10 * 60_000 },
  async (t) => {
    assert.equal(process.getuid?.(), 0, 'needs root (netns, bridges, mounts)');
    for (const tool of ['echo-basic', 'coredns']) builtGoTool(tool);
    builtEcho();
    const spdyClient = `${builtGoTool('spdy-client')}/trellis-spdy-client`;
    const suiteDir = conformanceModuleDir();
    const objects = [
      ...pick(`${suiteDir}/base/manifests.yaml`, [
        `Namespace/${INFRA}`,
        'Service/infra-backend-v1',
        'Deployment/infra-backend-v1',
        'Service/infra-backend-v3',
        'Deployment/infra-backend-v3',
        'Service/grpc-infra-backend-v1',
        'Deployment/grpc-infra-backend-v1',
        'ConfigMap/coredns',
        'Service/coredns',
        'Deployment/coredns',
      ]),
      ...pick(`${suiteDir}/mesh/manifests.yaml`),
      clientPod(),
    ];
    const c = await createCluster({ name: NAME, nodes: 1 });
    const k = kubectlFor(c.kubeconfig);
    try {
      k.apply(objects);
      for (const ns of [INFRA, MESH, CONSUMER])
        k.run([
          'wait',
          '-n',
          ns,
          '--for=condition=Available',
          'deployment',
          '--all',
          '--timeout=180s',
        ]);
      k.run(['wait', '--for=condition=Ready', 'pod/client', '--timeout=60s']);
      const pods = (ns: string, selector: string): string[] =>
        k.getJson('pods', '-n', ns, '-l', selector).items.map((p: Any) => p.metadata.name);
      const inClient = (argv: string[]) => k.run(['exec', 'client', '--', ...argv]);
      const clientIP = k.getJson('pod', 'client').status.podIP as string;

      await t.test(
        'echo-basic (v1.5.1 and v1.6.0-dev.3) answers HTTP with the JSON the suite reads',
        () => {
          for (const app of ['infra-backend-v1', 'infra-backend-v3']) {
            const host = `${app}.${INFRA}:8080`;
            const body = inClient([
              'curl',
              '-sS',
              '--max-time',
              '10',
              '-H',
              'X-Echo-Test: one',
              `http://${host}/conformance?x=1`,
            ]);
            const r = JSON.parse(body);
            assert.equal(r.path, '/conformance?x=1');
            assert.equal(r.host, host);
            assert.equal(r.method, 'GET');
            assert.equal(r.proto, 'HTTP/1.1');
            assert.deepEqual(r.headers['X-Echo-Test'], ['one']);
            assert.equal(r.namespace, INFRA);
            assert.ok(pods(INFRA, `app=${app}`).includes(r.pod), `${r.pod} is a pod of ${app}`);
          }
          // v1.6.0-dev.3's retry simulation: fail (503) until the attempt count is reached.
          const retry = `http://infra-backend-v3.${INFRA}:8080/retry/x?uuid=u${process.pid}&succeedAfter=1&responseCode=503`;
          const code = () =>
            inClient([
              'curl',
              '-sS',
              '--max-time',
              '10',
              '-o',
              '/dev/null',
              '-w',
              '%{http_code}',
              retry,
            ]);
          assert.deepEqual([code(), code()], ['503', '200']);
        },
      );

      await t.test('echo-basic with GRPC_ECHO_SERVER answers grpcecho.GrpcEcho/Echo', () => {
        const out = inClient([
          'node',
          '-e',
          grpcEchoCall(suiteDir),
          `grpc-infra-backend-v1.${INFRA}:8080`,
        ]);
        const a = JSON.parse(out).assertions;
        assert.equal(
          a.fullyQualifiedMethod,
          '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo',
        );
        assert.equal(a.authority, `grpc-infra-backend-v1.${INFRA}:8080`);
        assert.ok(
          a.headers.some((h: Any) => h.key === 'x-echo-test' && h.value === 'two'),
          JSON.stringify(a.headers),
        );
        assert.equal(a.context.namespace, INFRA);
        assert.ok(pods(INFRA, 'app=grpc-infra-backend-v1').includes(a.context.pod), a.context.pod);
      });

      await t.test(
        "the suite's CoreDNS (whoami on foo.bar.com) answers with the asker's address",
        () => {
          const out = JSON.parse(inClient(['node', '-e', WHOAMI_QUERY, `coredns.${INFRA}`]));
          assert.equal(out.rcode, 0, 'NOERROR');
          assert.ok(
            out.additional.includes(clientIP),
            `whoami saw ${out.additional}, not ${clientIP}`,
          );
        },
      );

      const [echoV1] = pods(MESH, 'app=echo,version=v1');
      assert.ok(echoV1, 'an echo-v1 pod');
      // What the mesh tests do: client-go's SPDY executor runs `client <url> ...` in container echo.
      const meshClient = (pod: string, ns: string, args: string[]) => {
        const r = spawnSync(
          spdyClient,
          ['exec', '-n', ns, '--pod', pod, '-c', 'echo', '--', 'client', ...args],
          {
            env: { ...process.env, KUBECONFIG: c.kubeconfig },
            encoding: 'utf8',
            timeout: 60_000,
          },
        );
        assert.equal(r.status, 0, `client ${args.join(' ')}: ${r.stderr}`);
        return r.stdout;
      };

      await t.test(
        'echo-advanced: the client command over HTTP reports what the suite parses',
        () => {
          const out = meshClient(echoV1!, MESH, [
            'http://echo-v2/',
            '--method=GET',
            '-H',
            'version:one',
          ]);
          assert.equal(field(out, 'StatusCode'), '200', out);
          assert.match(
            field(out, 'Hostname') ?? '',
            /^echo-v2-/,
            'the answering pod, by its hostname',
          );
          assert.equal(field(out, 'Host'), 'echo-v2');
          assert.equal(field(out, 'Method'), 'GET');
          assert.match(out, /^\[0 body\] RequestHeader=Version:one$/m);
          assert.match(out, /^\[0\] ResponseHeader=Content-Type:/m);
        },
      );

      await t.test('echo-advanced: gRPC with --count gives one section per request', () => {
        const out = meshClient(echoV1!, MESH, ['grpc://echo:7070', '--count=5']);
        // As the suite splits batches: blank-line separated, keeping those with a code or hostname.
        const sections = out.split('\n\n').filter((s) => /StatusCode=|Hostname=/.test(s));
        assert.equal(sections.length, 5, out);
        for (const s of sections) {
          assert.equal(field(s, 'StatusCode'), '200', s);
          assert.match(field(s, 'Hostname') ?? '', /^echo-v[12]-/);
          assert.equal(field(s, 'Proto'), 'GRPC');
        }
      });

      await t.test('echo-advanced: TCP and TLS ports (the image certificate at /cert.crt)', () => {
        const tcp = meshClient(echoV1!, MESH, ['tcp://echo-v2:9090']);
        assert.equal(field(tcp, 'Proto'), 'TCP', tcp);
        assert.match(field(tcp, 'Hostname') ?? '', /^echo-v2-/);
        const tls = meshClient(echoV1!, MESH, ['https://echo-v2:443/', '--ca=/cert.crt']);
        assert.equal(field(tls, 'StatusCode'), '200', tls);
        assert.match(field(tls, 'Hostname') ?? '', /^echo-v2-/);
        assert.equal(field(tls, 'ServicePort'), '8443');
      });

      await t.test('echo-advanced with its default ports, from the consumer namespace', () => {
        const [consumer] = pods(CONSUMER, 'app=echo');
        assert.ok(consumer);
        assert.equal(k.run(['exec', '-n', CONSUMER, consumer!, '--', 'hostname']).trim(), consumer);
        const out = meshClient(consumer!, CONSUMER, [`http://echo-v1.${MESH}:8080/path?q=1`]);
        assert.equal(field(out, 'StatusCode'), '200', out);
        assert.equal(field(out, 'URL'), '/path?q=1');
        assert.match(field(out, 'Hostname') ?? '', /^echo-v1-/);
      });
    } finally {
      await deleteCluster(NAME);
    }
  },
);

/** echo-advanced maps to packages/echo (the mesh echo app's server and `client`). */
function builtEcho(): void {
  for (const f of ['dist/server-main.js', 'dist/client-main.js'])
    if (!existsSync(resolve(REPO_ROOT, 'packages/echo', f)))
      throw new Error(`packages/echo is not built (no ${f}); run npx tsc -b packages/echo`);
}

/** The first value of `Name=` in client output, as the suite's regexes read it. */
function field(out: string, name: string): string | undefined {
  return new RegExp(`${name}=(.*)`).exec(out)?.[1];
}

/** Where the Go module cache holds the conformance module tools/echo-basic is built from. */
function conformanceModuleDir(): string {
  const out = execFileSync('go', ['list', '-m', '-json', 'sigs.k8s.io/gateway-api/conformance'], {
    cwd: resolve(REPO_ROOT, 'tools/echo-basic'),
    env: { ...process.env, GOFLAGS: '-mod=mod' },
    encoding: 'utf8',
  });
  return JSON.parse(out).Dir;
}

/** The objects of a manifest file, all of them or those named Kind/name. */
function pick(file: string, names?: string[]): Any[] {
  const all = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS())
    .filter(Boolean);
  if (!names) return all;
  const found = all.filter((o: Any) => names.includes(`${o.kind}/${o.metadata.name}`));
  assert.equal(found.length, names.length, `${file} holds ${names.join(', ')}`);
  return found;
}

function clientPod(): Any {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: 'curlimages/curl', command: ['sleep', '3600'] }],
    },
  };
}

/** A grpc-js call of GrpcEcho/Echo with the suite's own proto; prints the response as JSON. */
function grpcEchoCall(suiteDir: string): string {
  return `
const req = require('node:module').createRequire(${JSON.stringify(`${PACKAGE_ROOT}/package.json`)});
const grpc = req('@grpc/grpc-js');
const loader = req('@grpc/proto-loader');
const def = grpc.loadPackageDefinition(
  loader.loadSync(${JSON.stringify(`${suiteDir}/echo-basic/grpcecho.proto`)}, { keepCase: false }),
);
const Echo = def.gateway_api_conformance.echo_basic.grpcecho.GrpcEcho;
const client = new Echo(process.argv[1], grpc.credentials.createInsecure());
const md = new grpc.Metadata();
md.set('x-echo-test', 'two');
client.Echo({}, md, { deadline: Date.now() + 10000 }, (err, res) => {
  if (err) { console.error(err.message); process.exit(1); }
  console.log(JSON.stringify(res));
  client.close();
});`;
}

/**
 * One DNS query (A foo.bar.com, UDP) to the Service named in argv; prints the rcode and the
 * IPv4 addresses of the additional section, where whoami reports the asker.
 */
const WHOAMI_QUERY = `
const dgram = require('node:dgram');
const dns = require('node:dns');
dns.lookup(process.argv[1], { family: 4 }, (err, server) => {
  if (err) { console.error(err.message); process.exit(1); }
  const name = Buffer.concat([...'foo.bar.com'.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const q = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 1, 0, 1])]);
  const s = dgram.createSocket('udp4');
  const timer = setTimeout(() => { console.error('no answer'); process.exit(1); }, 10000);
  s.on('message', (m) => {
    clearTimeout(timer);
    const skipName = (o) => { while (m[o] !== 0) { if ((m[o] & 0xc0) === 0xc0) return o + 2; o += m[o] + 1; } return o + 1; };
    let o = skipName(12) + 4;
    const counts = [m.readUInt16BE(6), m.readUInt16BE(8), m.readUInt16BE(10)];
    const additional = [];
    for (let section = 0; section < 3; section++) {
      for (let i = 0; i < counts[section]; i++) {
        o = skipName(o);
        const type = m.readUInt16BE(o), len = m.readUInt16BE(o + 8);
        if (section === 2 && type === 1) additional.push([...m.subarray(o + 10, o + 14)].join('.'));
        o += 10 + len;
      }
    }
    console.log(JSON.stringify({ rcode: m[3] & 15, additional }));
    s.close();
  });
  s.send(q, 53, server);
});`;
