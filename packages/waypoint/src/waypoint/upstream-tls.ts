// TLS originated by the waypoint towards an endpoint (a DestinationRule's `tls.mode: SIMPLE` or
// `MUTUAL`, served as the cluster's UpstreamTlsContext): over the plain TCP connection of a
// destination outside the mesh, or inside the HBONE tunnel of a mesh one. The server certificate
// must chain to the given CA (else the system roots) and carry one of the SANs the cluster names,
// else the SNI when there is one; `skipVerify` accepts anything. Certificates and keys are read
// from their files on every new connection (mounted Secrets change without a restart).
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import tls, { type PeerCertificate } from 'node:tls';
import type { DataRef, UpstreamTls } from '../engine/model/cluster.js';

async function load(d: DataRef | undefined): Promise<string | undefined> {
  if (!d) return undefined;
  return 'pem' in d ? d.pem : readFile(d.file, 'utf8');
}

/** The SANs of a peer certificate as `DNS:x` / `URI:y` strings. */
function sansOf(cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '').split(/,\s*/).filter((s) => s !== '');
}

export async function originateTls(
  stream: Duplex,
  t: UpstreamTls,
  signal: AbortSignal,
): Promise<Duplex> {
  const [ca, cert, key] = await Promise.all([load(t.ca), load(t.cert), load(t.key)]);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      socket: stream,
      ...(t.sni ? { servername: t.sni } : {}),
      ...(ca ? { ca } : {}),
      ...(cert && key ? { cert, key } : {}),
      ...(t.alpn.length > 0 ? { ALPNProtocols: [...t.alpn] } : {}),
      rejectUnauthorized: !t.skipVerify,
      checkServerIdentity: (host, peer) => {
        if (t.skipVerify) return undefined;
        if (t.sans.length > 0) {
          const have = sansOf(peer);
          const ok = t.sans.some((s) => have.includes(`${s.type.toUpperCase()}:${s.value}`));
          return ok
            ? undefined
            : new Error(
                `the upstream certificate has none of the expected SANs (${t.sans.map((s) => s.value).join(', ')})`,
              );
        }
        return t.sni ? tls.checkServerIdentity(host, peer) : undefined;
      },
    });
    const onAbort = () => socket.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: Error) => {
      signal.removeEventListener('abort', onAbort);
      stream.destroy();
      reject(new Error(`upstream TLS: ${err.message}`));
    };
    socket.once('error', onError);
  });
}
