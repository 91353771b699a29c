// Materialises a pod's volumes in its directory on the node: emptyDir, hostPath (inside the node's
// root, see hostPathSource), ConfigMap, Secret, downwardAPI and projected volumes including bound
// service-account tokens from the TokenRequest API, refreshed before they expire.
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile, chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeClient } from './kube-client.js';
import type { PodFacts } from './env.pure.js';
import type { KeyToPath, Pod, Volume } from './pod-spec.js';
import { hostPathSource } from './container-launch.pure.js';
import { addToList } from './host-mountpoints.js';
import {
  decodeSecretData,
  downwardFiles,
  keyFiles,
  tokenRefreshAfterSeconds,
  type VolumeFile,
} from './volumes.pure.js';

export interface VolumeContext {
  client: KubeClient;
  pod: Pod;
  facts: PodFacts;
  podDir: string;
  nodeRoot: string;
  /** Where the node lists the host paths its pods have used, for its CNI plugins (cni-node-fs). */
  hostPathsFile?: string;
}

export class PodVolumes {
  readonly dirs = new Map<string, string>();
  private readonly tokenDue = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: VolumeContext) {}

  async prepare(): Promise<void> {
    for (const v of this.ctx.pod.spec.volumes ?? []) {
      this.dirs.set(v.name, await this.prepareOne(v));
    }
    if (this.timer) return;
    this.timer = setInterval(
      () =>
        void this.refresh().catch((e) =>
          console.error(`volume refresh ${this.ctx.facts.name}: ${(e as Error).message}`),
        ),
      30_000,
    );
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    for (const v of this.ctx.pod.spec.volumes ?? []) {
      if (v.configMap || v.secret || v.projected) await this.prepareOne(v);
    }
  }

  private async prepareOne(v: Volume): Promise<string> {
    const dir = `${this.ctx.podDir}/volumes/${v.name}`;
    if (v.hostPath) {
      const src = hostPathSource(v.hostPath.path, this.ctx.nodeRoot);
      const type: string = v.hostPath.type ?? '';
      const isFile = ['File', 'FileOrCreate', 'Socket', 'CharDevice', 'BlockDevice'].includes(type);
      if (this.ctx.hostPathsFile)
        await addToList(
          this.ctx.hostPathsFile,
          isFile ? dirname(v.hostPath.path) : v.hostPath.path,
        );
      if (type === 'File' || type === 'FileOrCreate') {
        await mkdir(dirname(src), { recursive: true });
        if (!existsSync(src)) await writeFile(src, '');
      } else if (type === 'Socket' || type === 'CharDevice' || type === 'BlockDevice') {
        await mkdir(dirname(src), { recursive: true });
      } else if (!existsSync(src)) {
        await mkdir(src, { recursive: true });
      }
      return src;
    }
    await mkdir(dir, { recursive: true });
    if (v.emptyDir) return dir;
    const mode = (m: number | undefined) => m ?? 0o644;
    let files: VolumeFile[];
    if (v.configMap)
      files = await this.configMapFiles(
        v.configMap.name,
        v.configMap.items,
        mode(v.configMap.defaultMode),
        v.configMap.optional,
      );
    else if (v.secret)
      files = await this.secretFiles(
        v.secret.secretName,
        v.secret.items,
        mode(v.secret.defaultMode),
        v.secret.optional,
      );
    else if (v.downwardAPI)
      files = downwardFiles(
        v.downwardAPI.items ?? [],
        this.ctx.facts,
        mode(v.downwardAPI.defaultMode),
      );
    else if (v.projected) files = await this.projectedFiles(v.name, v.projected);
    else
      throw new Error(
        `volume ${v.name}: unsupported volume type (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected)`,
      );
    await writeAtomically(dir, files);
    return dir;
  }

  private async configMapFiles(
    name: string,
    items: KeyToPath[] | undefined,
    defaultMode: number,
    optional?: boolean,
  ): Promise<VolumeFile[]> {
    const cm = await this.ctx.client.getOrUndefined(
      `/api/v1/namespaces/${this.ctx.facts.namespace}/configmaps/${name}`,
    );
    if (!cm) {
      if (optional) return [];
      throw new Error(`ConfigMap ${this.ctx.facts.namespace}/${name} not found`);
    }
    const data: Record<string, string | Buffer> = {
      ...(cm.data ?? {}),
      ...decodeSecretData(cm.binaryData),
    };
    return keyFiles(data, items, defaultMode, `ConfigMap ${name}`);
  }

  private async secretFiles(
    name: string,
    items: KeyToPath[] | undefined,
    defaultMode: number,
    optional?: boolean,
  ): Promise<VolumeFile[]> {
    const s = await this.ctx.client.getOrUndefined(
      `/api/v1/namespaces/${this.ctx.facts.namespace}/secrets/${name}`,
    );
    if (!s) {
      if (optional) return [];
      throw new Error(`Secret ${this.ctx.facts.namespace}/${name} not found`);
    }
    return keyFiles(decodeSecretData(s.data), items, defaultMode, `Secret ${name}`);
  }

  private async projectedFiles(
    volName: string,
    projected: NonNullable<Volume['projected']>,
  ): Promise<VolumeFile[]> {
    const defaultMode = projected.defaultMode ?? 0o644;
    const files: VolumeFile[] = [];
    for (const [i, src] of (projected.sources ?? []).entries()) {
      if (src.configMap)
        files.push(
          ...(await this.configMapFiles(
            src.configMap.name,
            src.configMap.items,
            defaultMode,
            src.configMap.optional,
          )),
        );
      else if (src.secret)
        files.push(
          ...(await this.secretFiles(
            src.secret.name,
            src.secret.items,
            defaultMode,
            src.secret.optional,
          )),
        );
      else if (src.downwardAPI)
        files.push(...downwardFiles(src.downwardAPI.items ?? [], this.ctx.facts, defaultMode));
      else if (src.serviceAccountToken) {
        const key = `${volName}/${i}`;
        const dir = `${this.ctx.podDir}/volumes/${volName}`;
        const path = src.serviceAccountToken.path;
        if (Date.now() < (this.tokenDue.get(key) ?? 0) && existsSync(`${dir}/${path}`)) continue;
        const token = await this.requestToken(
          src.serviceAccountToken.audience,
          src.serviceAccountToken.expirationSeconds ?? 3600,
        );
        this.tokenDue.set(
          key,
          Date.now() + tokenRefreshAfterSeconds(new Date(), token.expires) * 1000,
        );
        files.push({ path, content: token.token, mode: projected.defaultMode ?? 0o600 });
      } else if (src.clusterTrustBundle) {
        throw new Error(`volume ${volName}: clusterTrustBundle projections are not supported`);
      }
    }
    return files;
  }

  private async requestToken(
    audience: string | undefined,
    expirationSeconds: number,
  ): Promise<{ token: string; expires: Date }> {
    const { namespace, serviceAccountName, name, uid } = this.ctx.facts;
    const r = await this.ctx.client.req(
      'POST',
      `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccountName}/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: audience ? [audience] : [],
          expirationSeconds,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid },
        },
      },
    );
    return { token: r.status.token, expires: new Date(r.status.expirationTimestamp) };
  }
}

async function writeAtomically(dir: string, files: VolumeFile[]): Promise<void> {
  for (const f of files) {
    const target = `${dir}/${f.path}`;
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    await writeFile(tmp, f.content);
    await chmod(tmp, f.mode);
    await rename(tmp, target);
  }
}
