// The part of kustomize that deploy/ uses, so the CLI needs no kustomize binary: `resources`
// (files and directories holding a kustomization.yaml) and `images` (newName/newTag). Anything
// else is refused by name, so a kustomization that needs more cannot be half-applied.
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../kube/objects.pure.js';
import { containersOf } from './render.pure.js';

export interface ImageOverride {
  readonly name: string;
  readonly newName?: string;
  readonly newTag?: string;
}

export interface Kustomization {
  readonly resources: readonly string[];
  readonly images: readonly ImageOverride[];
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'images']);

export function parseKustomization(text: string, file: string): Kustomization {
  const doc = parseYamlDocs(text, file)[0] ?? {};
  for (const key of Object.keys(doc))
    if (!SUPPORTED.has(key))
      throw new Error(
        `${file}: "${key}" is not supported by trellis (it reads ${[...SUPPORTED].join(', ')}); use kubectl kustomize for this file`,
      );
  const resources = doc.resources ?? [];
  if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string'))
    throw new Error(`${file}: resources must be a list of paths`);
  const images = doc.images ?? [];
  if (!Array.isArray(images) || !images.every((i) => typeof i?.name === 'string'))
    throw new Error(`${file}: images must be a list of {name, newName?, newTag?}`);
  return { resources, images };
}

/** Every document of a YAML text as plain objects; empty documents are skipped. */
export function parseYamlDocs(text: string, file: string): KubeObject[] {
  const out: KubeObject[] = [];
  parseAllDocuments(text).forEach((d, i) => {
    if (d.errors.length) throw new Error(`${file}: document ${i + 1}: ${d.errors[0]!.message}`);
    const value = d.toJS();
    if (value !== null && value !== undefined) out.push(value);
  });
  return out;
}

/** Applies kustomize `images` overrides to the containers of pod templates. */
export function applyImages(
  objects: readonly KubeObject[],
  images: readonly ImageOverride[],
): KubeObject[] {
  if (images.length === 0) return [...objects];
  return objects.map((original) => {
    const containers = containersOf(original);
    if (containers.length === 0) return original;
    const obj = structuredClone(original);
    for (const c of containersOf(obj)) {
      const { name, tag } = splitImage(c.image);
      const o = images.find((i) => i.name === name);
      if (o) c.image = `${o.newName ?? name}${o.newTag ? `:${o.newTag}` : tag ? `:${tag}` : ''}`;
    }
    return obj;
  });
}

function splitImage(image: string): { name: string; tag: string | undefined } {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash
    ? { name: image.slice(0, colon), tag: image.slice(colon + 1) }
    : { name: image, tag: undefined };
}
