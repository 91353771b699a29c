// The TLS options of a forward plan for node:tls: the client certificate and CA from PEM text or
// files, verification only when a CA is given (or not skipped), the server name and ALPN.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ForwardError, type TlsMaterial } from '../forward-request.pure.js';

export function tlsOptions(m: TlsMaterial): ConnectionOptions {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new ForwardError(`failed to load ${what} ${file}: ${(e as Error).message}`);
    }
  };
  const cert = m.certFile ? read(m.certFile, 'client certificate') : m.cert;
  const key = m.keyFile ? read(m.keyFile, 'client certificate key') : m.key;
  const ca = m.caCertFile ? read(m.caCertFile, 'CA certificate') : m.caCert;
  const out: ConnectionOptions = {
    rejectUnauthorized: !m.insecureSkipVerify,
    ALPNProtocols: m.alpn.length ? m.alpn : undefined,
  };
  if (cert && key) Object.assign(out, { cert, key });
  if (ca && !m.insecureSkipVerify) out.ca = ca;
  if (m.serverName) out.servername = m.serverName;
  return out;
}
