// Maps container images to local commands (there is no container runtime): the image map is a
// JSON file `{ "<image>": { "command": [...], "args": [...], "env": {...}, "files": {...} } }`
// where "${repo}" is the monorepo root, "${node}" the Node.js binary and "${tool:NAME}" the bin
// dir of the Go tool tools/NAME (programs built from a pinned Go module by tools/go-tool.sh).
// Kubernetes' command/args override rules apply on top; `env` is the image's own environment
// (the container's env overrides it) and `files` the image's files a program expects at fixed
// paths (container path -> host file, bind-mounted read-only).

export interface ImageEntry {
  command: string[];
  args?: string[];
  env?: Record<string, string>;
  files?: Record<string, string>;
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
    if (e.args !== undefined && !isStringArray(e.args))
      throw new Error(`${source}: image "${image}": "args" must be an array of strings`);
    if (e.env !== undefined && !isStringRecord(e.env))
      throw new Error(`${source}: image "${image}": "env" must map names to strings`);
    if (e.files !== undefined) {
      if (!isStringRecord(e.files))
        throw new Error(`${source}: image "${image}": "files" must map paths to host files`);
      const relative = Object.keys(e.files).find((p) => !p.startsWith('/'));
      if (relative !== undefined)
        throw new Error(
          `${source}: image "${image}": file "${relative}" must be an absolute container path`,
        );
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

const isStringArray = (x: unknown): x is string[] =>
  Array.isArray(x) && x.every((c) => typeof c === 'string');

const isStringRecord = (x: unknown): x is Record<string, string> =>
  typeof x === 'object' &&
  x !== null &&
  !Array.isArray(x) &&
  Object.values(x).every((c) => typeof c === 'string');

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

/** The image's environment, placeholders substituted. */
export function imageEnv(entry: ImageEntry | undefined, v: Substitutions): Record<string, string> {
  return Object.fromEntries(Object.entries(entry?.env ?? {}).map(([k, x]) => [k, subst(x, v)]));
}

/** The image's files as read-only bind mounts, placeholders substituted. */
export function imageFiles(
  entry: ImageEntry | undefined,
  v: Substitutions,
): Array<{ source: string; target: string; readOnly: true }> {
  return Object.entries(entry?.files ?? {}).map(([target, source]) => ({
    source: subst(source, v),
    target,
    readOnly: true,
  }));
}

/** Expands $(VAR) references as Kubernetes does; $$(VAR) escapes; unknown references stay as they are. */
export function expandEnvRefs(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && name in env ? env[name]! : m;
  });
}
