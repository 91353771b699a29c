// The plugin's two reads from the API server (the pod and its namespace), with the kubeconfig the
// agent writes into its run dir: JSON with one cluster (server, CA data) and one user (token).
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { PodLookup } from './plugin.js';

interface Kubeconfig {
  server: URL;
  ca: string;
  token?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

const unb64 = (s: string | undefined) =>
  s ? Buffer.from(s, 'base64').toString('utf8') : undefined;

export function readKubeconfig(path: string): Kubeconfig {
  let doc: {
    clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
    users?: {
      user?: { token?: string; 'client-certificate-data'?: string; 'client-key-data'?: string };
    }[];
  };
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as typeof doc;
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  }
  const cluster = doc.clusters?.[0]?.cluster;
  const user = doc.users?.[0]?.user;
  const cert = unb64(user?.['client-certificate-data']);
  const key = unb64(user?.['client-key-data']);
  if (!cluster?.server || !cluster['certificate-authority-data'] || !(user?.token || (cert && key)))
    throw new Error(
      `kubeconfig ${path} needs clusters[0].cluster.server and certificate-authority-data, and a token or a client certificate in users[0].user`,
    );
  return {
    server: new URL(cluster.server),
    ca: unb64(cluster['certificate-authority-data'])!,
    token: user?.token,
    cert,
    key,
  };
}

function getJson(
  kc: Kubeconfig,
  path: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: kc.server.hostname.replace(/^\[|\]$/g, ''),
        port: kc.server.port || 443,
        path,
        method: 'GET',
        ca: kc.ca,
        ...(kc.cert && kc.key ? { cert: kc.cert, key: kc.key } : {}),
        headers: {
          ...(kc.token ? { authorization: `Bearer ${kc.token}` } : {}),
          accept: 'application/json',
        },
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
            return;
          }
          try {
            resolve(JSON.parse(body) as Record<string, unknown>);
          } catch (err) {
            reject(new Error(`GET ${path}: not JSON: ${(err as Error).message}`));
          }
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

type Meta = {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
};

export async function lookupPod(
  kubeconfigPath: string,
  namespace: string,
  name: string,
  timeoutMs: number,
): Promise<PodLookup> {
  const kc = readKubeconfig(kubeconfigPath);
  const ns = encodeURIComponent(namespace);
  const [pod, nsObj] = await Promise.all([
    getJson(kc, `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(name)}`, timeoutMs),
    getJson(kc, `/api/v1/namespaces/${ns}`, timeoutMs),
  ]);
  const p = pod as Meta & { spec?: { hostNetwork?: boolean } };
  return {
    labels: p.metadata?.labels ?? {},
    annotations: p.metadata?.annotations ?? {},
    hostNetwork: p.spec?.hostNetwork === true,
    namespaceLabels: (nsObj as Meta).metadata?.labels ?? {},
  };
}
