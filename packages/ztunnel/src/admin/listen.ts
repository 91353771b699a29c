// Starts a server on a host:port setting ('' host: every interface) and returns the bound port.
import type { AddressInfo, Server } from 'node:net';
import type { HostPort } from '@trellis/core';

export function listen(server: Server, at: HostPort): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host === '' ? undefined : at.host, port: at.port }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
