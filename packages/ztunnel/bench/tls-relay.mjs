#!/usr/bin/env node
// One half of the Node.js mTLS relay pair the in-pod bench compares the mesh with (the anchors'
// node_mtls_pair): `client` accepts plain TCP and originates TLS 1.3 with a client certificate;
// `server` terminates TLS 1.3, requires a client certificate from the same CA, and forwards plain
// TCP. Bytes are piped both ways. Prints "ready" once listening.
//   node tls-relay.mjs client|server <listen host:port> <target host:port> <cert dir>
// <cert dir> holds ca.crt and <role>.crt / <role>.key; the server's name is server.anchor.local.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';

const [role, listen, target, dir] = process.argv.slice(2);
if (!['client', 'server'].includes(role) || !listen || !target || !dir) {
  console.error(
    'usage: tls-relay.mjs client|server <listen host:port> <target host:port> <cert dir>',
  );
  process.exit(2);
}
const hostPort = (s, what) => {
  const m = /^(.+):(\d+)$/.exec(s);
  if (!m) throw new Error(`${what} "${s}" is not host:port`);
  return { host: m[1], port: Number(m[2]) };
};
const from = hostPort(listen, 'listen address');
const to = hostPort(target, 'target address');
const creds = {
  ca: readFileSync(join(dir, 'ca.crt')),
  cert: readFileSync(join(dir, `${role}.crt`)),
  key: readFileSync(join(dir, `${role}.key`)),
  minVersion: 'TLSv1.3',
};

/** Pipes both ways; an error or close on either side ends the other. */
function splice(a, b) {
  a.pipe(b);
  b.pipe(a);
  for (const [x, y] of [
    [a, b],
    [b, a],
  ]) {
    x.on('error', () => y.destroy());
    x.on('close', () => y.destroy());
  }
}

const server =
  role === 'client'
    ? net.createServer((down) =>
        splice(down, tls.connect({ ...to, ...creds, servername: 'server.anchor.local' })),
      )
    : tls.createServer({ ...creds, requestCert: true, rejectUnauthorized: true }, (down) =>
        splice(down, net.connect(to)),
      );
server.listen(from.port, from.host, () => console.log('ready'));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
