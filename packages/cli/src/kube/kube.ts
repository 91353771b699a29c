// A small Kubernetes REST client for the CLI: kubeconfig loading (with --context), discovery of
// any kind's resource path, server-side apply, get, list, delete, and raw GETs (pod proxy,
// version). Credentials and TLS come from @kubernetes/client-node's KubeConfig; requests are plain
// node:https so each error can carry the apiserver's own message.
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject, ObjectRef } from './objects.pure.js';
import { refOf, describeRef } from './objects.pure.js';

export interface KubeTarget {
  /** --kubeconfig; else $KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
  readonly kubeconfig?: string;
  /** --context; else the kubeconfig's current context. */
  readonly context?: string;
}

/** An apiserver answer other than 2xx, with its Status message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

interface Resource {
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface ApplyOptions {
  readonly fieldManager: string;
  readonly dryRun?: boolean;
  readonly force?: boolean;
}

export class Kube {
  private readonly resources = new Map<string, Map<string, Resource>>();

  private constructor(
    readonly config: KubeConfig,
    readonly server: string,
    readonly contextName: string,
  ) {}

  static connect(target: KubeTarget, env: Readonly<Record<string, string | undefined>>): Kube {
    const kc = new KubeConfig();
    const file = target.kubeconfig;
    if (file !== undefined) {
      if (!existsSync(file))
        throw new Error(
          `kubeconfig ${file} does not exist (--kubeconfig): give the file of the cluster`,
        );
      kc.loadFromFile(file);
    } else {
      const home = env['HOME'] ? join(env['HOME'], '.kube', 'config') : undefined;
      if (!env['KUBECONFIG'] && !(home && existsSync(home)) && !env['KUBERNETES_SERVICE_HOST'])
        throw new Error(
          'no cluster to talk to: pass --kubeconfig FILE, set KUBECONFIG, or create a local cluster (trellis cluster create)',
        );
      kc.loadFromDefault();
    }
    if (target.context !== undefined) {
      const names = kc.getContexts().map((c) => c.name);
      if (!names.includes(target.context))
        throw new Error(
          `context "${target.context}" is not in the kubeconfig (--context); it has: ${names.join(', ') || 'none'}`,
        );
      kc.setCurrentContext(target.context);
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster)
      throw new Error(
        `the kubeconfig's current context "${kc.getCurrentContext()}" names no cluster; pass --context NAME`,
      );
    return new Kube(kc, cluster.server, kc.getCurrentContext());
  }

  /**
   * One request; resolves with the status and body whatever the status. Answers that mean "try
   * again" (429, 503 such as "storage is (re)initializing" right after a CRD is created, 504) are
   * retried for up to ~30 s, honouring Retry-After; every verb used here is idempotent.
   */
  async request(
    method: string,
    path: string,
    options: { body?: string; contentType?: string; accept?: string; timeoutMs?: number } = {},
  ): Promise<{ status: number; text: string }> {
    let delayMs = 250;
    for (let waited = 0; ;) {
      const r = await this.requestOnce(method, path, options);
      if (![429, 503, 504].includes(r.status) || waited >= 30_000)
        return { status: r.status, text: r.text };
      const pause = Math.max(r.retryAfterMs ?? delayMs, 100);
      await sleep(pause);
      waited += pause;
      delayMs = Math.min(delayMs * 2, 4000);
    }
  }

  private async requestOnce(
    method: string,
    path: string,
    options: { body?: string; contentType?: string; accept?: string; timeoutMs?: number } = {},
  ): Promise<{ status: number; text: string; retryAfterMs: number | undefined }> {
    const base = new URL(this.server);
    const url = new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}${path}`);
    const opts: RequestOptions = {
      method,
      headers: {
        accept: options.accept ?? 'application/json',
        ...(options.body !== undefined
          ? { 'content-type': options.contentType ?? 'application/json' }
          : {}),
      },
    };
    await this.config.applyToHTTPSOptions(opts);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            retryAfterMs: retryAfter(res.headers['retry-after']),
          }),
        );
        res.on('error', reject);
      });
      req.setTimeout(options.timeoutMs ?? 30_000, () =>
        req.destroy(
          new Error(
            `${method} ${url.pathname}: no answer from ${this.server} within ${(options.timeoutMs ?? 30_000) / 1000}s`,
          ),
        ),
      );
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENOTFOUND'
            ? new Error(
                `cannot reach the API server ${this.server} (${e.code}): is the cluster running? (context ${this.contextName})`,
              )
            : e,
        ),
      );
      if (options.body !== undefined) req.write(options.body);
      req.end();
    });
  }

  /** A JSON request; throws KubeApiError with the apiserver's message for a non-2xx answer. */
  async json<T = KubeObject>(
    method: string,
    path: string,
    options: { body?: unknown; contentType?: string; what?: string } = {},
  ): Promise<T> {
    const { status, text } = await this.request(method, path, {
      ...(options.body !== undefined
        ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
        : {}),
      ...(options.contentType ? { contentType: options.contentType } : {}),
    });
    if (status >= 300) throw apiError(status, text, options.what ?? `${method} ${path}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The resource of a kind, from discovery; undefined when the API server does not serve it. */
  async resource(apiVersion: string, kind: string): Promise<Resource | undefined> {
    let kinds = this.resources.get(apiVersion);
    if (!kinds) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const { status, text } = await this.request('GET', path);
      if (status === 404) return undefined;
      if (status >= 300) throw apiError(status, text, `discovery of ${apiVersion}`);
      kinds = new Map();
      for (const r of (
        JSON.parse(text) as { resources: { name: string; kind: string; namespaced: boolean }[] }
      ).resources)
        if (!r.name.includes('/')) kinds.set(r.kind, { plural: r.name, namespaced: r.namespaced });
      this.resources.set(apiVersion, kinds);
    }
    const found = kinds.get(kind);
    if (!found) this.resources.delete(apiVersion); // a CRD may appear later
    return found;
  }

  /** Forgets discovered kinds (after CRDs were installed or removed). */
  forgetDiscovery(): void {
    this.resources.clear();
  }

  /** The path of an object, or of its collection when ref.name is undefined. */
  async pathOf(ref: ObjectRef): Promise<string> {
    const r = await this.resource(ref.apiVersion, ref.kind);
    if (!r)
      throw new KubeApiError(
        404,
        'NotFound',
        `the API server does not serve ${ref.kind} (${ref.apiVersion}); is its CRD installed?`,
      );
    const base = ref.apiVersion.includes('/')
      ? `/apis/${ref.apiVersion}`
      : `/api/${ref.apiVersion}`;
    const ns = r.namespaced && ref.namespace ? `/namespaces/${ref.namespace}` : '';
    return `${base}${ns}/${r.plural}${ref.name ? `/${ref.name}` : ''}`;
  }

  /** Server-side apply of one object. */
  async apply(obj: KubeObject, o: ApplyOptions): Promise<KubeObject> {
    const ref = refOf(obj);
    const q = new URLSearchParams({ fieldManager: o.fieldManager });
    if (o.force !== false) q.set('force', 'true');
    if (o.dryRun) q.set('dryRun', 'All');
    return this.json('PATCH', `${await this.pathOf(ref)}?${q}`, {
      body: obj,
      contentType: 'application/apply-patch+yaml',
      what: `apply ${describeRef(ref)}`,
    });
  }

  /** The object, or undefined when it (or its kind) does not exist. */
  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    if (!(await this.resource(ref.apiVersion, ref.kind))) return undefined;
    const { status, text } = await this.request('GET', await this.pathOf(ref));
    if (status === 404) return undefined;
    if (status >= 300) throw apiError(status, text, `get ${describeRef(ref)}`);
    return JSON.parse(text);
  }

  /** Objects of a kind (all namespaces unless given); empty when the kind is not served. */
  async list(
    apiVersion: string,
    kind: string,
    o: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<KubeObject[]> {
    if (!(await this.resource(apiVersion, kind))) return [];
    const path = await this.pathOf({ apiVersion, kind, namespace: o.namespace });
    const q = new URLSearchParams();
    if (o.labelSelector) q.set('labelSelector', o.labelSelector);
    if (o.fieldSelector) q.set('fieldSelector', o.fieldSelector);
    const list = await this.json<{ items: KubeObject[] }>('GET', q.size ? `${path}?${q}` : path, {
      what: `list ${kind}`,
    });
    return list.items.map((item) => ({ apiVersion, kind, ...item }));
  }

  /** Deletes an object; false when it did not exist. */
  async delete(
    ref: ObjectRef,
    propagationPolicy: 'Background' | 'Foreground' | 'Orphan' = 'Background',
  ): Promise<boolean> {
    if (!(await this.resource(ref.apiVersion, ref.kind))) return false;
    const { status, text } = await this.request('DELETE', await this.pathOf(ref), {
      body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy }),
    });
    if (status === 404) return false;
    if (status >= 300) throw apiError(status, text, `delete ${describeRef(ref)}`);
    return true;
  }

  /** GET through the apiserver's proxy to a pod's port (the port must listen on the pod IP). */
  async podProxyGet(namespace: string, pod: string, port: number, path: string): Promise<string> {
    const p = `/api/v1/namespaces/${namespace}/pods/${pod}:${port}/proxy${path}`;
    const { status, text } = await this.request('GET', p, { accept: '*/*' });
    if (status >= 300)
      throw new KubeApiError(
        status,
        'ProxyError',
        `GET ${path} on pod ${namespace}/${pod} port ${port}: HTTP ${status}: ${statusMessage(text).slice(0, 300)}`,
      );
    return text;
  }

  /** GitVersion of the API server, e.g. v1.34.4. */
  async serverVersion(): Promise<{ gitVersion: string; major: string; minor: string }> {
    return this.json('GET', '/version', { what: 'GET /version' });
  }
}

/** Retry-After in seconds (the form the API server sends), capped at 10 s. */
function retryAfter(header: string | undefined): number | undefined {
  const seconds = Number(header);
  return header !== undefined && Number.isFinite(seconds)
    ? Math.min(seconds, 10) * 1000
    : undefined;
}

function statusMessage(text: string): string {
  try {
    const s = JSON.parse(text) as { message?: string };
    if (typeof s.message === 'string') return s.message;
  } catch {
    // not a Status
  }
  return text.trim();
}

function apiError(status: number, text: string, what: string): KubeApiError {
  let reason = '';
  try {
    reason = (JSON.parse(text) as { reason?: string }).reason ?? '';
  } catch {
    // not JSON
  }
  const hint =
    status === 401
      ? ' (the credentials of the kubeconfig were refused)'
      : status === 403
        ? ' (your user lacks the permission; trellis install needs cluster-admin)'
        : '';
  return new KubeApiError(status, reason, `${what}: ${statusMessage(text)}${hint}`);
}
