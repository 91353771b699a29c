// The real proof for proxyless gRPC: a grpc-js client with @grpc/grpc-js-xds, bootstrapped against
// an @trellis/xds server whose generators call `generateEnvoy`, dials
// `xds:///echo.default.svc.cluster.local:7070` and reaches real echo servers on 127.0.0.1; with two
// endpoints the calls spread over both; a GRPCRoute splits traffic by header.
//
// The client runs in a child process (proxyless-grpc.e2e-client.ts): grpc-js-xds's registration and
// bootstrap are process-wide, and it leaves timers behind when its channel closes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { addAdsService, createXdsServer, type Generator, type XdsServer } from '@trellis/xds';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL } from '@trellis/api';
import { eventually } from '@trellis/core/test-support';
import { deriveMeshState, type MeshState } from '../../collections/mesh-state.js';
import { formatProblem, parseSnapshot } from '../../ingest/manifests.js';
import { ENVOY_TYPE_URLS, generateEnvoy } from './index.js';
import { withRoutes } from './state.js';

const CLIENT = fileURLToPath(new URL('./test-support/proxyless-grpc-client.js', import.meta.url));
const ECHO_PATH = '/grpc.testing.EchoTestService/Echo';
const identity = (b: Buffer) => b;

interface EchoServer {
  name: string;
  port: number;
  server: grpc.Server;
}

async function startEcho(name: string): Promise<EchoServer> {
  const server = new grpc.Server();
  server.addService(
    {
      echo: {
        path: ECHO_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      echo: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb(null, Buffer.from(name)),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { name, port, server };
}

function pod(name: string, labels: Record<string, string>, port: number): string {
  return `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: default, labels: ${JSON.stringify(labels)} }
spec:
  containers: [{ name: c, image: echo, ports: [{ name: grpc, containerPort: ${port} }] }]
status:
  phase: Running
  podIP: 127.0.0.1
  conditions: [{ type: Ready, status: "True" }]
`;
}

function service(name: string, selector: Record<string, string> | undefined, ip: string): string {
  return `
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  ${selector ? `selector: ${JSON.stringify(selector)}` : ''}
  clusterIP: ${ip}
  ports: [{ name: grpc, port: 7070, targetPort: grpc, appProtocol: grpc }]
`;
}

function meshState(docs: string[]): MeshState {
  const { snapshot, problems } = parseSnapshot(docs.join('---\n'), 'e2e.yaml');
  assert.deepEqual(problems.map(formatProblem), []);
  return withRoutes(deriveMeshState(snapshot), snapshot);
}

let a: EchoServer;
let b: EchoServer;
let c: EchoServer;
let d: EchoServer;
let xds: XdsServer<MeshState>;
let xdsServer: grpc.Server;
let client: ChildProcessWithoutNullStreams;
const pending = new Map<number, (answer: { server?: string; error?: string }) => void>();
let nextId = 0;

before(async () => {
  a = await startEcho('server-a');
  b = await startEcho('server-b');
  c = await startEcho('server-c');
  d = await startEcho('server-d');
  const generators: Record<string, Generator<MeshState>> = {};
  for (const t of ENVOY_TYPE_URLS) generators[t] = generateEnvoy;
  xds = createXdsServer<MeshState>({
    generators,
    snapshot: meshState([
      service('echo', { app: 'echo' }, '10.96.0.20'),
      pod('echo-a', { app: 'echo', version: 'v1' }, a.port),
    ]),
    debounce: { quietMs: 1, maxDelayMs: 20 },
  });
  xdsServer = new grpc.Server();
  addAdsService(xdsServer, xds);
  const xdsPort = await new Promise<number>((resolve, reject) =>
    xdsServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const bootstrap = JSON.stringify({
    xds_servers: [
      {
        server_uri: `127.0.0.1:${xdsPort}`,
        channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'],
      },
    ],
    node: { id: 'sidecar~127.0.0.1~client.default~default.svc.cluster.local', locality: {} },
  });
  client = spawn(process.execPath, [CLIENT, 'xds:///echo.default.svc.cluster.local:7070'], {
    env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: bootstrap },
  });
  client.stderr.pipe(process.stderr);
  createInterface({ input: client.stdout }).on('line', (line) => {
    const answer = JSON.parse(line) as { id: number; server?: string; error?: string };
    pending.get(answer.id)?.(answer);
    pending.delete(answer.id);
  });
  client.on('exit', (code) => {
    for (const answer of pending.values()) answer({ error: `client process exited with ${code}` });
    pending.clear();
  });
});

after(async () => {
  if (client && client.exitCode === null) {
    client.stdin.end();
    const [code] = (await once(client, 'exit')) as [number | null];
    assert.equal(code, 0, 'the client process ends cleanly');
  }
  await xds?.close(1000);
  xdsServer?.forceShutdown();
  a?.server.forceShutdown();
  b?.server.forceShutdown();
  c?.server.forceShutdown();
  d?.server.forceShutdown();
});

/** One Echo call through the client process; resolves with the name of the server that answered. */
function echo(call: { canary: boolean } = { canary: false }): Promise<string> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, (a) =>
      a.server !== undefined ? resolve(a.server) : reject(new Error(a.error)),
    );
    client.stdin.write(`${JSON.stringify({ id, canary: call.canary })}\n`);
  });
}

/** Calls until `want` answers (the update reached the client). */
async function until(want: string, call?: { canary: boolean }): Promise<void> {
  const seen: string[] = [];
  await eventually(
    `${want} to answer`,
    async () => {
      const who = await echo(call).catch((e: Error) => `error: ${e.message}`);
      seen.push(who);
      return who === want;
    },
    { intervalMs: 10, detail: () => `last answers: ${seen.slice(-3).join(', ')}` },
  );
}

test('a proxyless gRPC client resolves the service through xDS and reaches the real server', async () => {
  assert.equal(await echo(), 'server-a');
  assert.equal(await echo(), 'server-a');
  const conn = xds.debug().find((c) => c.proxyId.startsWith('sidecar~127.0.0.1'));
  assert.ok(conn, 'the client connected to the xDS server');
  const eds = conn.types.find((t) => t.typeUrl === CLUSTER_LOAD_ASSIGNMENT_TYPE_URL);
  assert.deepEqual(eds?.subscribed, ['outbound|7070||echo.default.svc.cluster.local']);
  assert.equal(eds?.nacks, 0);
  assert.ok(
    conn.types.every((t) => t.nacks === 0),
    'no resource was NACKed',
  );
});

test('with a second endpoint, calls spread across both servers', async () => {
  xds.update({
    snapshot: meshState([
      service('echo', { app: 'echo' }, '10.96.0.20'),
      pod('echo-a', { app: 'echo', version: 'v1' }, a.port),
      pod('echo-b', { app: 'echo', version: 'v2' }, b.port),
    ]),
  });
  xds.flush();
  await until('server-b');
  const answers = [];
  for (let i = 0; i < 10; i++) answers.push(await echo());
  assert.ok(
    answers.includes('server-a') && answers.includes('server-b'),
    `answers: ${answers.join(', ')}`,
  );
});

// echo-v1 and echo-v2 run on servers no earlier configuration knew (server-c, server-d), so an
// answer from them can only come through the route.
test('a GRPCRoute on the service sends canary calls to echo-v2 and the rest to echo-v1', async () => {
  xds.update({
    snapshot: meshState([
      service('echo', { app: 'echo' }, '10.96.0.20'),
      service('echo-v1', { app: 'split', version: 'v1' }, '10.96.0.21'),
      service('echo-v2', { app: 'split', version: 'v2' }, '10.96.0.22'),
      pod('echo-a', { app: 'echo', version: 'v1' }, a.port),
      pod('echo-b', { app: 'echo', version: 'v2' }, b.port),
      pod('split-c', { app: 'split', version: 'v1' }, c.port),
      pod('split-d', { app: 'split', version: 'v2' }, d.port),
      `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: echo, namespace: default }
spec:
  parentRefs: [{ group: "", kind: Service, name: echo, port: 7070 }]
  rules:
    - matches: [{ method: { service: grpc.testing.EchoTestService }, headers: [{ name: x-canary, value: "true" }] }]
      backendRefs: [{ name: echo-v2, port: 7070 }]
    - backendRefs: [{ name: echo-v1, port: 7070 }]
`,
    ]),
  });
  xds.flush();
  await until('server-d', { canary: true });
  await until('server-c', { canary: false });
  for (let i = 0; i < 5; i++) {
    assert.equal(await echo({ canary: true }), 'server-d');
    assert.equal(await echo({ canary: false }), 'server-c');
  }
});
