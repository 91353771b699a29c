// Graceful shutdown of the HBONE server: stop accepting, GOAWAY, let open streams finish until the
// deadline, then close what is left.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { HboneConnectError } from './errors.js';
import { HboneServer } from './server.js';
import {
  errorOf,
  makePki,
  readText,
  spiffe,
  startApp,
  startClient,
} from './test-support/hbone-endpoints.js';

const SERVER = spiffe('server');

async function setup(t: TestContext) {
  const pki = await makePki();
  const certificate = await pki.workload(SERVER);
  const server = new HboneServer({
    trustBundle: pki.trustBundle,
    certificateFor: () => certificate,
  });
  t.after(() => server.close({ drainMs: 0 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const app = await startApp(t);
  const client = startClient(t);
  const connect = async (serviceAccount = 'client') =>
    client.connect({
      source: await pki.workload(spiffe(serviceAccount)),
      destinationIdentity: SERVER,
      destinationIp: '127.0.0.1',
      hbonePort: port,
      target: `127.0.0.1:${app.port}`,
    });
  return { server, app, client, connect };
}

describe('HBONE server shutdown', () => {
  it('stops accepting but lets an open stream finish, then resolves', async (t) => {
    const env = await setup(t);
    const tunnel = await env.connect();
    const socket = await env.app.socket();
    let closed = false;
    const closing = env.server.close({ drainMs: 60_000 }).then(() => (closed = true));

    await assert.rejects(env.connect('newcomer'), HboneConnectError);
    const appRead = readText(socket);
    tunnel.end('written after shutdown began');
    assert.equal(await appRead, 'written after shutdown began');
    const clientRead = readText(tunnel);
    socket.end('answered after shutdown began');
    assert.equal(await clientRead, 'answered after shutdown began');
    assert.equal(closed, false, 'close() resolved while a stream was still open');
    await closing;
    assert.equal(env.server.connections, 0);
  });

  it('resets streams still open at the deadline', async (t) => {
    const env = await setup(t);
    const tunnel = await env.connect();
    const socket = await env.app.socket();
    const clientError = errorOf(tunnel);
    const appError = errorOf(socket);
    await env.server.close({ drainMs: 50 });
    assert.equal((await clientError).code, 'ECONNRESET');
    assert.equal((await appError).code, 'ECONNRESET');
  });
});
