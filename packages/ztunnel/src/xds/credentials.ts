// gRPC credentials for the control plane on 15012: TLS to the mesh root, and the service-account
// token (re-read on every call, as kubelet rotates it) as the bearer token.
import { readFile } from 'node:fs/promises';
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';

export function xdsCredentials(o: { rootPem: string; tokenPath: string }): ChannelCredentials {
  const token = credentials.createFromMetadataGenerator((_params, callback) => {
    readFile(o.tokenPath, 'utf8').then(
      (t) => {
        const md = new Metadata();
        md.set('authorization', `Bearer ${t.trim()}`);
        callback(null, md);
      },
      (err: Error) => callback(new Error(`reading token ${o.tokenPath}: ${err.message}`)),
    );
  });
  return credentials.combineChannelCredentials(
    credentials.createSsl(Buffer.from(o.rootPem)),
    token,
  );
}
