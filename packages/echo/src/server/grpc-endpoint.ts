// A gRPC port: proto.EchoTestService (Echo answers with the fields of fields.pure.ts
// grpcEchoBody; ForwardEcho makes the requested calls from this server) and grpc.health.v1
// Health/Check (SERVING once every port is up). Connections are accepted by a net/tls listener
// and handed to grpc-js.
import { createServer as createTcpServer, type Server as NetServer } from 'node:net';
import {
  Server as GrpcServer,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { echoTestServiceDefinition, healthServiceDefinition } from '../echo-proto.js';
import { grpcEchoBody, plainIp } from '../fields.pure.js';
import { InvalidForwardRequest, type ForwardRequest } from '../forward-request.pure.js';
import { forwardEcho } from '../forwarder/forward.js';
import type { EndpointContext } from './context.js';

export interface GrpcEndpoint {
  listener: NetServer;
  close(): void;
}

export function grpcEndpoint(ctx: EndpointContext, tls: boolean): GrpcEndpoint {
  const grpc = new GrpcServer();
  let port = 0;
  grpc.addService(echoTestServiceDefinition, {
    echo(
      call: ServerUnaryCall<{ message: string }, unknown>,
      cb: sendUnaryData<{ message: string }>,
    ) {
      ctx.reportRequest();
      const metadata: Array<[string, string]> = [];
      for (const [k, vs] of Object.entries(call.metadata.toJSON()))
        for (const v of vs) if (typeof v === 'string') metadata.push([k, v]);
      cb(null, {
        message: grpcEchoBody(ctx.identity, {
          port,
          authority: call.getHost(),
          metadata,
          ip: peerIp(call.getPeer()),
          message: call.request.message,
        }),
      });
    },
    forwardEcho(
      call: ServerUnaryCall<ForwardRequest, unknown>,
      cb: sendUnaryData<{ output: string[] }>,
    ) {
      forwardEcho(call.request).then(
        (output) => cb(null, { output }),
        (e: Error) =>
          cb({
            code: e instanceof InvalidForwardRequest ? status.INVALID_ARGUMENT : status.UNKNOWN,
            details: e.message,
          }),
      );
    },
  });
  grpc.addService(healthServiceDefinition, {
    check(_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<{ status: string }>) {
      cb(null, { status: ctx.isReady() ? 'SERVING' : 'NOT_SERVING' });
    },
  });
  const creds = tls
    ? ServerCredentials.createSsl(null, [{ cert_chain: ctx.cert!, private_key: ctx.key! }], false)
    : ServerCredentials.createInsecure();
  const injector = grpc.createConnectionInjector(creds);
  const listener = createTcpServer((socket) => injector.injectConnection(socket));
  listener.on('listening', () => {
    const a = listener.address();
    port = typeof a === 'object' && a ? a.port : 0;
  });
  return {
    listener,
    close() {
      injector.drain(1000);
      grpc.forceShutdown();
    },
  };
}

/** "ipv4:10.0.0.1:1234", "10.0.0.1:1234", "[::1]:1234" -> the address. */
function peerIp(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const m = /^\[(.*)\]:\d+$/.exec(p) ?? /^(.*):\d+$/.exec(p);
  return plainIp(m ? m[1] : p);
}
