import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { createLifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { lines, logger: log.scope('lifecycle'), messages: () => lines.map((l) => l.msg) };
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

async function roundtrip(socket: net.Socket, text: string): Promise<string> {
  socket.write(text);
  const [data] = await once(socket, 'data');
  return String(data);
}

const echoServer = () => net.createServer((socket) => socket.pipe(socket));

test('a connection open at shutdown keeps working and ends by itself; new ones are refused', async () => {
  const { logger, messages } = capturedLogger();
  const lifecycle = createLifecycle({ logger, drainMs: 10_000, signals: [] });
  const server = echoServer();
  lifecycle.addServer('echo', server);
  const port = await listen(server);
  const events: string[] = [];
  lifecycle.onShutdown('record', () => void events.push('hook ran'));

  const client = await connect(port);
  assert.equal(await roundtrip(client, 'before'), 'before');
  const done = lifecycle.shutdown('test');
  assert.equal(lifecycle.stopping, true);

  await assert.rejects(connect(port), { code: 'ECONNREFUSED' });
  assert.equal(await roundtrip(client, 'during drain'), 'during drain');

  events.push('client ends');
  client.end();
  await done;
  assert.deepEqual(events, ['client ends', 'hook ran']);
  assert.deepEqual(messages(), ['shutting down', 'shutdown complete']);
});

test('a connection that outlives the deadline is closed at the deadline', async () => {
  const { logger, lines, messages } = capturedLogger();
  const lifecycle = createLifecycle({ logger, drainMs: 100, signals: [] });
  const server = echoServer();
  lifecycle.addServer('echo', server);
  const port = await listen(server);
  const client = await connect(port);
  client.on('error', () => {}); // a reset is one way to be closed
  assert.equal(await roundtrip(client, 'hello'), 'hello');
  const clientClosed = once(client, 'close').then(() => messages().length);

  await lifecycle.shutdown('test');
  // The client was closed, and only after the deadline was logged (not when shutdown started).
  const loggedBeforeClose = await clientClosed;
  assert.deepEqual(messages().slice(0, 2), [
    'shutting down',
    'drain deadline passed; closing remaining connections',
  ]);
  assert.ok(loggedBeforeClose >= 2, 'the connection was open until the deadline');
  const warning = lines.find(
    (l) => l.msg === 'drain deadline passed; closing remaining connections',
  );
  assert.equal(warning?.server, 'echo');
  assert.equal(warning?.connections, 1);
  assert.equal(warning?.level, 'warn');
});

test('an HTTP request in flight at shutdown completes, then its connection closes', async () => {
  const { logger, messages } = capturedLogger();
  const lifecycle = createLifecycle({ logger, drainMs: 10_000, signals: [] });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = http.createServer(async (_req, res) => {
    await released;
    res.end('finished');
  });
  lifecycle.addServer('http', server);
  const port = await listen(server);

  const agent = new http.Agent({ keepAlive: true });
  const response = new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve(`${res.statusCode} ${res.headers.connection} ${body}`));
      })
      .on('error', reject);
  });
  await once(server, 'request');
  const done = lifecycle.shutdown('test');
  release();
  // The response tells the client not to reuse the connection, so it ends right after.
  assert.equal(await response, '200 close finished');
  await done;
  agent.destroy();
  assert.deepEqual(messages(), ['shutting down', 'shutdown complete']);
});

test('an HTTP/2 stream in flight completes; the session is told to go away', async () => {
  const { logger, messages } = capturedLogger();
  const lifecycle = createLifecycle({ logger, drainMs: 10_000, signals: [] });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = http2.createServer();
  server.on('stream', async (stream) => {
    await released;
    stream.respond({ ':status': 200 });
    stream.end('h2 finished');
  });
  lifecycle.addServer('h2', server);
  const port = await listen(server);

  const session = http2.connect(`http://127.0.0.1:${port}`);
  const goaway = once(session, 'goaway');
  const req = session.request({ ':path': '/' });
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  const ended = once(req, 'end');
  await once(server, 'stream');

  const done = lifecycle.shutdown('test');
  await goaway;
  release();
  await ended;
  assert.equal(body, 'h2 finished');
  await done;
  assert.deepEqual(messages(), ['shutting down', 'shutdown complete']);
});

test('a gRPC stream that outlives the deadline is cancelled; new calls fail', async () => {
  const { logger, messages } = capturedLogger();
  const lifecycle = createLifecycle({ logger, drainMs: 100, signals: [] });
  const raw = (b: Buffer) => b;
  const method = {
    path: '/test.Watch/Watch',
    requestStream: false,
    responseStream: true,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  };
  const server = new grpc.Server();
  server.addService(
    { Watch: method },
    {
      Watch: (call: grpc.ServerWritableStream<Buffer, Buffer>) => call.write(Buffer.from('first')), // never ends
    },
  );
  lifecycle.addServer('grpc', server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const Client = grpc.makeGenericClientConstructor({ Watch: method }, 'Watch');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (
    client as unknown as { Watch(req: Buffer): grpc.ClientReadableStream<Buffer> }
  ).Watch(Buffer.alloc(0));
  const [first] = await once(call, 'data');
  assert.equal(String(first), 'first');
  const callError = once(call, 'error').then(([err]) => err as grpc.ServiceError);

  await lifecycle.shutdown('test');
  const err = await callError;
  assert.notEqual(err.code, grpc.status.OK);
  assert.ok(messages().includes('drain deadline passed; closing remaining connections'));

  const late = (
    client as unknown as { Watch(req: Buffer): grpc.ClientReadableStream<Buffer> }
  ).Watch(Buffer.alloc(0));
  const [lateErr] = await once(late, 'error');
  assert.equal((lateErr as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
  client.close();
});

test('hooks run last-registered first; a failing hook is logged and the rest still run', async () => {
  const { logger, lines } = capturedLogger();
  const lifecycle = createLifecycle({ logger, drainMs: 0, signals: [] });
  const order: string[] = [];
  lifecycle.onShutdown('metrics', () => void order.push('metrics'));
  lifecycle.onShutdown('broken', () => {
    throw new Error('boom');
  });
  lifecycle.onShutdown('xds', async () => void order.push('xds'));

  const first = lifecycle.shutdown('one');
  assert.equal(lifecycle.shutdown('two'), first);
  await first;
  assert.deepEqual(order, ['xds', 'metrics']);
  const failure = lines.find((l) => l.msg === 'shutdown hook failed');
  assert.equal(failure?.hook, 'broken');
  assert.equal((failure?.err as { message: string }).message, 'boom');
  assert.throws(() => lifecycle.addServer('late', echoServer()), /shutdown has started/);
  assert.throws(() => lifecycle.onShutdown('late', () => {}), /shutdown has started/);
});

test('SIGTERM drains a real process, which then exits by itself', async (t) => {
  const script = fileURLToPath(new URL('../testdata/lifecycle-child.mjs', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = once(child, 'exit');
  while (!stdout.includes('\n')) await once(child.stdout, 'data');
  const { port } = JSON.parse(stdout.split('\n')[0]) as { port: number };

  const client = await connect(port);
  assert.equal(await roundtrip(client, 'ping'), 'ping');
  child.kill('SIGTERM');
  // Wait until the child reports it is shutting down, then check the open connection still works.
  while (!stderr.includes('shutting down')) await once(child.stderr, 'data');
  await assert.rejects(connect(port), { code: 'ECONNREFUSED' });
  assert.equal(await roundtrip(client, 'still here'), 'still here');
  client.end();

  const [code, signal] = await exited;
  assert.equal(signal, null, 'the child exited instead of being killed by the signal');
  assert.equal(code, 0, stderr);
  assert.deepEqual(stdout.trim().split('\n').slice(1), ['hook ran', 'exited cleanly']);
  const shuttingDown = stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'shutting down');
  assert.equal(shuttingDown?.reason, 'signal SIGTERM');
  assert.equal(shuttingDown?.scope, 'lifecycle');
});
