// What ships inside the CLI package: deploy/ (copied into dist/deploy at build time), the pinned
// Gateway API CRDs, and the CLI's version (the default image tag).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../kube/objects.pure.js';
import { loadKustomization } from './kustomize.js';
import { parseYamlDocs } from './kustomize.pure.js';
import { renderManifests } from './render.pure.js';
import { CLI_DIST } from '../package-dir.js';
import type { Profile, Values } from './values.pure.js';

export const DEPLOY_DIR = join(CLI_DIST, 'deploy/');

/** The Gateway API release `trellis install` applies when a cluster has none. */
export const GATEWAY_API_VERSION = 'v1.6.1';
export const GATEWAY_API_FILE = `${DEPLOY_DIR}gateway-api/standard-install-${GATEWAY_API_VERSION}.yaml`;

export const CLI_VERSION: string = (
  JSON.parse(readFileSync(join(CLI_DIST, '../package.json'), 'utf8')) as {
    version: string;
  }
).version;

/** The objects of an install with this profile and these values. */
export function installManifests(profile: Profile, values: Values): KubeObject[] {
  return renderManifests(loadKustomization(DEPLOY_DIR), { profile, values, version: CLI_VERSION });
}

/** Gateway API CRDs from a file, an http(s) URL, or the pinned release bundled with the CLI. */
export async function gatewayApiCrds(source: string | undefined): Promise<KubeObject[]> {
  if (source === undefined)
    return parseYamlDocs(readFileSync(GATEWAY_API_FILE, 'utf8'), GATEWAY_API_FILE);
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source).catch((e: Error) => {
      throw new Error(`--gateway-api-crds ${source}: ${e.message}`);
    });
    if (!res.ok) throw new Error(`--gateway-api-crds ${source}: HTTP ${res.status}`);
    text = await res.text();
  } else {
    try {
      text = readFileSync(source, 'utf8');
    } catch (e) {
      throw new Error(`--gateway-api-crds ${source}: ${(e as Error).message}`, { cause: e });
    }
  }
  const docs = parseYamlDocs(text, source);
  const crds = docs.filter((d) => d.kind === 'CustomResourceDefinition');
  if (!crds.some((d) => d.metadata?.name === 'gateways.gateway.networking.k8s.io'))
    throw new Error(
      `--gateway-api-crds ${source}: holds no CRD for gateways.gateway.networking.k8s.io`,
    );
  return docs;
}
