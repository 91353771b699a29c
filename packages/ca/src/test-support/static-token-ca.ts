// Shared setup for tests: a CA with static tokens over real gRPC + TLS on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr, generateKeyPair } from '@trellis/pki';
import { CertificateAuthority, type CertificateAuthorityOptions } from '../authority.js';
import { staticIdentities, type StaticTokenEntry } from '../authn/static.js';
import { createCaClient, type CaClient } from '../client/ca-client.js';
import { dirStore } from '../dir-store.js';
import { loadOrCreateCa } from '../roots.js';
import { createCaServer, type CaServer } from '../server.js';

export const TD = 'cluster.local';
export const TOKENS: StaticTokenEntry[] = [
  { token: 'tok-web', namespace: 'default', serviceAccount: 'web', node: 'node-a' },
  { token: 'tok-api', namespace: 'prod', serviceAccount: 'api', node: 'node-b' },
  { token: 'tok-db', namespace: 'prod', serviceAccount: 'db', node: 'node-a' },
  {
    token: 'tok-ztunnel-a',
    namespace: 'trellis-system',
    serviceAccount: 'ztunnel',
    node: 'node-a',
  },
];
export const WEB = `spiffe://${TD}/ns/default/sa/web`;

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Running {
  readonly ca: CertificateAuthority;
  readonly server: CaServer;
  readonly address: string;
  client(token: string | undefined): CaClient;
}

export async function startCa(
  t: { after(fn: () => void | Promise<void>): void },
  dir: string,
  extra: Partial<CertificateAuthorityOptions> & { port?: number } = {},
): Promise<Running> {
  const material = await loadOrCreateCa(dirStore(dir), { trustDomain: TD });
  const ca = new CertificateAuthority({
    ...material,
    ...staticIdentities(TOKENS),
    trustDomain: TD,
    ...extra,
  });
  const server = await createCaServer({ ca, host: '127.0.0.1', port: extra.port ?? 0 });
  t.after(() => server.close());
  const address = `127.0.0.1:${server.port}`;
  return {
    ca,
    server,
    address,
    client(token) {
      const c = createCaClient({ address, rootPem: material.rootPem, token: () => token ?? '' });
      t.after(() => c.close());
      return c;
    },
  };
}

export async function csrFor(identity: string): Promise<string> {
  const { privateKey } = await generateKeyPair();
  return createCsr({ identity, privateKey });
}

/** Runs `openssl verify` on a chain (leaf, intermediates..., root); returns its output or throws. */
export function opensslVerify(dir: string, chain: readonly string[]): string {
  const root = join(dir, 'v-root.pem');
  const inter = join(dir, 'v-inter.pem');
  const leaf = join(dir, 'v-leaf.pem');
  writeFileSync(root, chain[chain.length - 1]!);
  writeFileSync(inter, chain.slice(1, -1).join('') || chain[chain.length - 1]!);
  writeFileSync(leaf, chain[0]!);
  return execFileSync('openssl', ['verify', '-CAfile', root, '-untrusted', inter, leaf], {
    encoding: 'utf8',
  });
}
