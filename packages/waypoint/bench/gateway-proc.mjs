#!/usr/bin/env node
// The gateway under benchmark, in its own process (so it can be pinned to a core): the gateway role
// started in-process with an xDS server that serves one HTTPS listener (SDS certificate, no
// server_names, so any SNI) routed to a plain-TCP backend. Args: <https port> <backend port>
// <cert file> <key file>. Prints "ready <pid>" once serving; stops on SIGTERM.
import { readFileSync } from 'node:fs';
import {
  cluster,
  endpoints,
  forward,
  prefix,
  simpleRoutes,
} from '../dist/test-support/envoy-builders.js';
import { spiffe, startFixture } from '../dist/test-support/fixture.js';
import { gatewayListener, tlsSecret } from '../dist/test-support/gateway-builders.js';

const [port, backendPort, certFile, keyFile] = process.argv.slice(2);
const C = 'outbound|80||backend.default.svc.cluster.local';
const f = await startFixture({
  hbonePort: 15008,
  identity: spiffe('istio-ingress', 'gw'),
  extraArgs: ['--role', 'gateway', '--listener-host', '127.0.0.1'],
  envoy: {
    listeners: [
      gatewayListener(Number(port), [
        { name: 'https', tls: { sds: ['kubernetes://istio-ingress/cert'] }, routes: 'r' },
      ]),
    ],
    routes: [simpleRoutes('r', [forward('all', prefix('/'), C)])],
    clusters: [cluster(C)],
    endpoints: [endpoints(C, [{ ip: '127.0.0.1', port: Number(backendPort) }])],
    secrets: [
      tlsSecret(
        'kubernetes://istio-ingress/cert',
        readFileSync(certFile, 'utf8'),
        readFileSync(keyFile, 'utf8'),
      ),
    ],
  },
});
process.stdout.write(`ready ${process.pid}\n`);
process.once('SIGTERM', () => void f.close().then(() => process.exit(0)));
