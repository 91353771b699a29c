// A small Kubernetes REST client over HTTPS with client-certificate auth: JSON requests, and
// list+watch loops that relist after errors. Enough for the node emulator and cluster setup.
import { request, Agent } from 'node:https';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface KubeCredentials {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

export class KubeError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 500)}`);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = any;

export type WatchEvent = {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Obj;
};

export class KubeClient {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(creds: KubeCredentials) {
    this.base = new URL(creds.server);
    this.agent = new Agent({
      ca: creds.ca,
      cert: creds.cert,
      key: creds.key,
      keepAlive: true,
      maxSockets: 16,
    });
  }

  static fromFiles(server: string, caFile: string, certFile: string, keyFile: string): KubeClient {
    const r = (f: string) => readFileSync(f, 'utf8');
    return new KubeClient({ server, ca: r(caFile), cert: r(certFile), key: r(keyFile) });
  }

  close(): void {
    this.agent.destroy();
  }

  async req(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<Obj> {
    const { status, text } = await this.raw(method, path, body, contentType);
    if (status >= 300) throw new KubeError(status, text, `${method} ${path}`);
    return text ? JSON.parse(text) : undefined;
  }

  get(path: string): Promise<Obj> {
    return this.req('GET', path);
  }

  /** GET that returns undefined on 404. */
  async getOrUndefined(path: string): Promise<Obj | undefined> {
    try {
      return await this.get(path);
    } catch (e) {
      if (e instanceof KubeError && e.status === 404) return undefined;
      throw e;
    }
  }

  raw(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const r = request(
        {
          host: this.base.hostname,
          port: this.base.port,
          path,
          method,
          agent: this.agent,
          headers: {
            accept: 'application/json',
            ...(data
              ? { 'content-type': contentType, 'content-length': Buffer.byteLength(data) }
              : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      r.on('timeout', () => r.destroy(new Error(`${method} ${path}: timeout`)));
      r.on('error', reject);
      r.end(data);
    });
  }

  /**
   * Lists `path` then watches it, calling onEvent for each object (a relist reports every object
   * as ADDED, and objects gone since as DELETED) and onListed after each list's events. Runs
   * until signal aborts.
   */
  async listWatch(
    path: string,
    onEvent: (e: WatchEvent) => void | Promise<void>,
    signal: AbortSignal,
    onListed?: () => void,
  ): Promise<void> {
    const known = new Map<string, Obj>();
    const key = (o: Obj) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const sep = path.includes('?') ? '&' : '?';
    while (!signal.aborted) {
      try {
        const list = await this.get(path);
        const seen = new Set<string>();
        for (const item of list.items as Obj[]) {
          seen.add(key(item));
          known.set(key(item), item);
          await onEvent({ type: 'ADDED', object: item });
        }
        for (const [k, o] of known) {
          if (!seen.has(k)) {
            known.delete(k);
            await onEvent({ type: 'DELETED', object: o });
          }
        }
        onListed?.();
        let rv: string = list.metadata.resourceVersion;
        while (!signal.aborted) {
          rv = await this.watchOnce(
            `${path}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${rv}`,
            rv,
            async (e) => {
              if (e.type === 'DELETED') known.delete(key(e.object));
              else if (e.type !== 'BOOKMARK') known.set(key(e.object), e.object);
              if (e.type !== 'BOOKMARK') await onEvent(e);
            },
            signal,
          );
        }
      } catch (e) {
        if (signal.aborted) return;
        if (!(e instanceof WatchExpired)) console.error(`watch ${path}: ${(e as Error).message}`);
        await sleep(1000, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  private watchOnce(
    path: string,
    startRv: string,
    onEvent: (e: WatchEvent) => Promise<void>,
    signal: AbortSignal,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      let rv = startRv;
      let buf = '';
      let chain = Promise.resolve();
      const r = request(
        {
          host: this.base.hostname,
          port: this.base.port,
          path,
          method: 'GET',
          agent: this.agent,
          signal,
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
            return;
          }
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let i;
            while ((i = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              if (!line.trim()) continue;
              const e = JSON.parse(line) as WatchEvent;
              if (e.type === 'ERROR') {
                r.destroy(
                  e.object?.code === 410
                    ? new WatchExpired()
                    : new Error(`watch error: ${e.object?.message}`),
                );
                return;
              }
              rv = e.object?.metadata?.resourceVersion ?? rv;
              chain = chain.then(() => onEvent(e));
            }
          });
          res.on('end', () => chain.then(() => resolve(rv), reject));
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end();
    });
  }
}

class WatchExpired extends Error {
  constructor() {
    super('watch expired');
  }
}
