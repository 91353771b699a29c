// The gRPC client of the proxyless e2e test, run as a child process: grpc-js-xds registers itself
// and reads its bootstrap (GRPC_XDS_BOOTSTRAP_CONFIG) process-wide, and leaves timers behind after a
// channel closes, so it gets a process of its own. Protocol: one JSON request per stdin line
// `{ "id": n, "canary": bool }`, one JSON answer per stdout line `{ "id": n, "server"?: s, "error"?: e }`;
// stdin closing ends the process.
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';

const TARGET = process.argv[2] ?? 'xds:///echo.default.svc.cluster.local:7070';
const ECHO_PATH = '/grpc.testing.EchoTestService/Echo';
const identity = (b: Buffer) => b;

register();
const client = new grpc.Client(TARGET, grpc.credentials.createInsecure());

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const { id, canary } = JSON.parse(line) as { id: number; canary: boolean };
    const metadata = new grpc.Metadata();
    if (canary) metadata.set('x-canary', 'true');
    const options: grpc.CallOptions = { deadline: Date.now() + 30_000 };
    (options as { waitForReady?: boolean }).waitForReady = true;
    client.makeUnaryRequest(
      ECHO_PATH,
      identity,
      identity,
      Buffer.from('ping'),
      metadata,
      options,
      (err, reply) =>
        process.stdout.write(
          `${JSON.stringify(err ? { id, error: err.message } : { id, server: reply!.toString() })}\n`,
        ),
    );
  })
  .on('close', () => {
    client.close();
    process.exit(0);
  });
