// Maps container images to local commands (there is no container runtime): the image map is a
// JSON file `{ "<image>": { "command": [...], "args": [...] } }` where "${repo}" is the monorepo
// root, "${node}" the Node.js binary and "${tool:NAME}" the bin dir of the Go tool tools/NAME
// (programs built from a pinned Go module by tools/go-tool.sh). Kubernetes' command/args override
// rules apply on top.

export interface ImageEntry {
  command: string[];
  args?: string[];
}

export type ImageMap = Record<string, ImageEntry>;

export interface Substitutions {
  repo: string;
  node: string;
  /** The bin dir of Go tool `name`; throws when it is not built. */
  tool(name: string): string;
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

/** The image map entry for an image; a tag-less reference matches ":latest". */
export function lookupImage(map: ImageMap, image: string): ImageEntry | undefined {
  if (map[image]) return map[image];
  const lastSlash = image.lastIndexOf('/');
  if (!image.slice(lastSlash + 1).includes(':') && !image.includes('@'))
    return map[`${image}:latest`];
  return undefined;
}

const subst = (s: string, v: Substitutions) =>
  s
    .replaceAll('${repo}', v.repo)
    .replaceAll('${node}', v.node)
    .replace(/\$\{tool:([a-z0-9-]+)\}/g, (_, name: string) => v.tool(name));

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
