// Reads a kustomization directory (deploy/ or one of its profiles) into objects, in the order
// the resources are listed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KubeObject } from '../kube/objects.pure.js';
import { applyImages, parseKustomization, parseYamlDocs } from './kustomize.pure.js';

export function loadKustomization(
  dir: string,
  seen: ReadonlySet<string> = new Set(),
): KubeObject[] {
  const abs = resolve(dir);
  if (seen.has(abs)) throw new Error(`${abs}: kustomizations include each other in a cycle`);
  const file = join(abs, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${abs} has no kustomization.yaml`);
  const k = parseKustomization(readFileSync(file, 'utf8'), file);
  const objects: KubeObject[] = [];
  for (const r of k.resources) {
    const path = resolve(abs, r);
    if (!existsSync(path)) throw new Error(`${file}: resource ${r} does not exist`);
    if (statSync(path).isDirectory())
      objects.push(...loadKustomization(path, new Set([...seen, abs])));
    else objects.push(...parseYamlDocs(readFileSync(path, 'utf8'), path));
  }
  return applyImages(objects, k.images);
}
