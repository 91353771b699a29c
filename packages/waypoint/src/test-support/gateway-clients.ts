// Clients and certificates for gateway tests: a throwaway "public" CA issuing server certificates
// for DNS names, an HTTPS request that reports the certificate the gateway presented, and a raw TLS
// connection (for passthrough and refused handshakes).
import https from 'node:https';
import tls from 'node:tls';
import { issueServingCert } from '@trellis/ca';
import {
  createRootCa,
  generateKeyPair,
  issueWorkloadCertificate,
  type CaCredentials,
} from '@trellis/pki';

export interface HostCert {
  readonly certChain: string;
  readonly privateKey: string;
}

export async function ingressRoot(): Promise<CaCredentials> {
  return createRootCa({ commonName: 'gateway test public root', ttlMs: 86_400_000 });
}

/** A server certificate for `names` (leaf + issuer), as a TLS Secret would hold it. */
export async function hostCert(issuer: CaCredentials, ...names: string[]): Promise<HostCert> {
  const c = await issueServingCert({ issuer, dnsNames: names, ips: [], ttlMs: 86_400_000 });
  return { certChain: c.chain.join(''), privateKey: c.key };
}

/** A client certificate (EKU clientAuth) for `identity` (a SPIFFE ID) issued by `issuer`. */
export async function clientCert(issuer: CaCredentials, identity: string): Promise<HostCert> {
  const keys = await generateKeyPair();
  const c = await issueWorkloadCertificate({
    publicKey: keys.publicKey,
    identity,
    issuer,
    ttlMs: 86_400_000,
  });
  return { certChain: c.cert, privateKey: keys.privateKey };
}

export interface TlsReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** subjectaltname of the certificate the server presented. */
  readonly san: string;
  readonly fingerprint: string;
  readonly reused: boolean;
}

/** One HTTPS request to `address` (default 127.0.0.1):port with SNI `servername`, trusting `ca`. */
export function httpsRequest(
  port: number,
  servername: string | undefined,
  ca: string,
  o: {
    path?: string;
    host?: string;
    agent?: https.Agent | false;
    method?: string;
    address?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: o.address ?? '127.0.0.1',
        port,
        path: o.path ?? '/',
        method: o.method ?? 'GET',
        // Node sends no SNI for an IP host; servername '' keeps it that way.
        servername: servername ?? '',
        ca,
        // The certificate names the host, not 127.0.0.1: check against the SNI we sent.
        checkServerIdentity: (_h, cert) =>
          servername ? tls.checkServerIdentity(servername, cert) : undefined,
        headers: { ...o.headers, host: o.host ?? servername ?? 'localhost' },
        agent: o.agent ?? false,
      },
      (res) => {
        const sock = res.socket as tls.TLSSocket;
        const cert = sock.getPeerCertificate();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body,
            san: cert.subjectaltname ?? '',
            fingerprint: cert.fingerprint256,
            reused: req.reusedSocket,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A TLS connection to `address`:port; resolves with the presented certificate and what the server
 * wrote after `send`, or rejects with the handshake error.
 */
export function tlsExchange(
  port: number,
  servername: string | undefined,
  ca: string,
  send: string,
  address = '127.0.0.1',
  client?: HostCert,
): Promise<{ san: string; reply: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: address,
      port,
      ...(client ? { cert: client.certChain, key: client.privateKey } : {}),
      ...(servername ? { servername } : {}),
      ca,
      checkServerIdentity: (_h, cert) =>
        servername ? tls.checkServerIdentity(servername, cert) : undefined,
    });
    let reply = '';
    let san = '';
    s.setEncoding('utf8');
    s.on('secureConnect', () => {
      san = s.getPeerCertificate().subjectaltname ?? '';
      s.end(send);
    });
    s.on('data', (d: string) => (reply += d));
    s.on('error', reject);
    s.on('close', () => resolve({ san, reply, alpn: s.alpnProtocol ?? false }));
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}
