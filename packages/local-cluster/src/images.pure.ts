// Maps container images to local commands (there is no container runtime): the image map is a
// JSON file `{ "<image>": { "command": [...], "args": [...] } }` where "${repo}" is the monorepo
// root and "${node}" the Node.js binary. Kubernetes' command/args override rules apply on top.

export interface ImageEntry {
  command: string[];
  args?: string[];
}

export type ImageMap = Record<string, ImageEntry>;

export interface Substitutions {
  repo: string;
  node: string;
}

export function parseImageMap(text: string, source: string): ImageMap {
  const doc = JSON.parse(text) as Record<string, unknown>;
  for (const [image, entry] of Object.entries(doc)) {
    const e = entry as Partial<ImageEntry>;
    if (
      !Array.isArray(e.command) ||
      e.command.length === 0 ||
      !e.command.every((c) => typeof c === 'string')
    ) {
      throw new Error(`${source}: image "${image}" needs a non-empty "command" array of strings`);
    }
  }
  return doc as ImageMap;
}

/**
 * The image map entry for an image; a tag-less reference matches ":latest", and an entry
 * "<name>:*" matches every tag of <name> (the repository's own images run the built code whatever
 * the tag a manifest names).
 */
export function lookupImage(map: ImageMap, image: string): ImageEntry | undefined {
  if (map[image]) return map[image];
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const tagged = colon > lastSlash;
  if (!tagged && !image.includes('@') && map[`${image}:latest`]) return map[`${image}:latest`];
  const name = tagged ? image.slice(0, colon) : image.split('@')[0]!;
  return map[`${name}:*`];
}

const subst = (s: string, v: Substitutions) =>
  s.replaceAll('${repo}', v.repo).replaceAll('${node}', v.node);

/** Kubelet semantics: `command` replaces the entrypoint (and drops image args); `args` replace the image args. */
export function resolveArgv(
  entry: ImageEntry,
  command: string[] | undefined,
  args: string[] | undefined,
  v: Substitutions,
  env: Record<string, string>,
): string[] {
  const expand = (s: string) => expandEnvRefs(s, env);
  const argv = command?.length
    ? [...command.map(expand), ...(args ?? []).map(expand)]
    : [...entry.command, ...(args ? args.map(expand) : (entry.args ?? []))];
  return argv.map((a) => subst(a, v));
}

/** Expands $(VAR) references as Kubernetes does; $$(VAR) escapes; unknown references stay as they are. */
export function expandEnvRefs(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && name in env ? env[name]! : m;
  });
}
