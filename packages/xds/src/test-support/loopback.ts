// A grpc-js server on 127.0.0.1 serving an XdsServer's ADS, restartable on the same port.
import { Server, ServerCredentials, credentials } from '@grpc/grpc-js';
import { addAdsService, type XdsServer } from '../server/server.js';

export const insecure = credentials.createInsecure();

export interface Loopback {
  readonly address: string;
  readonly port: number;
  /** Stops the gRPC server at once (streams are cut). */
  kill(): void;
  /** Gracefully stops the gRPC server. */
  close(): Promise<void>;
}

export async function serveAds(
  xds: Pick<XdsServer<unknown>, 'handlers'>,
  port = 0,
): Promise<Loopback> {
  const server = new Server();
  addAdsService(server, xds);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${bound}`,
    port: bound,
    kill: () => server.forceShutdown(),
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
