// A grpc-js server on 127.0.0.1 with an ephemeral port, for tests.
import { Server, ServerCredentials } from '@grpc/grpc-js';

export interface LoopbackServer {
  server: Server;
  address: string;
  close(): Promise<void>;
}

/** Starts a server after `setup` registered its services. */
export async function startLoopbackServer(
  setup: (server: Server) => void,
): Promise<LoopbackServer> {
  const server = new Server();
  setup(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  return {
    server,
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
