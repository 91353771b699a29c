// A request to a port a pod listens on only inside its own network namespace (the admin port of
// ztunnel, waypoints and gateways, localhost:15000): one port-forward through the API server per
// request, carried over a local loopback socket so node:http can speak to it.
import { createServer, type AddressInfo } from 'node:net';
import { PortForward } from '@kubernetes/client-node';
import { HttpStatusError, httpText, type HttpTextOptions } from './http-text.js';
import type { Kube } from './kube.js';

export async function portForwardText(
  kube: Kube,
  namespace: string,
  pod: string,
  port: number,
  path: string,
  opts: HttpTextOptions = {},
): Promise<string> {
  const forward = new PortForward(kube.config);
  const errors: string[] = [];
  const server = createServer((socket) => {
    forward
      .portForward(namespace, pod, [port], socket, null, socket)
      .then((ws) => {
        if (typeof ws !== 'function')
          ws.on('error', (e: Error) => {
            errors.push(e.message);
            socket.destroy();
          });
      })
      .catch((e: Error) => {
        errors.push(e.message);
        socket.destroy();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const local = (server.address() as AddressInfo).port;
  try {
    return await httpText('127.0.0.1', local, path, { timeoutMs: 15_000, ...opts }).catch(
      (e: Error) => {
        const where = `${namespace}/${pod}:${port}`;
        // The proxy answered: the port-forward worked, the request did not.
        if (e instanceof HttpStatusError) throw new Error(`${where}: ${e.message}`);
        throw new Error(
          `port-forward to ${where}: ${errors[0] ?? e.message} (does the cluster allow port-forward? try kubectl port-forward -n ${namespace} ${pod} ${port})`,
        );
      },
    );
  } finally {
    server.close();
  }
}
