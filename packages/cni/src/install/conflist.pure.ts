// Editing the node's primary CNI config (pure): our plugin entry goes last in the primary network's
// plugin list (a single-plugin .conf becomes a .conflist, as Istio does), and comes out again on
// uninstall. Every other plugin and field is kept as it was.
import { PLUGIN_TYPE } from '../plugin/cni-protocol.pure.js';

export type PluginEntry = Record<string, unknown> & { type: string };

export interface PluginEntryOptions {
  /** The agent's run dir as the runtime sees it. */
  agentRunDir: string;
  excludeNamespaces: readonly string[];
  podNamespace: string;
  logLevel: string;
}

export function pluginEntry(o: PluginEntryOptions): PluginEntry {
  return {
    type: PLUGIN_TYPE,
    cni_agent_run_dir: o.agentRunDir,
    exclude_namespaces: [...o.excludeNamespaces],
    pod_namespace: o.podNamespace,
    plugin_log_level: o.logLevel,
  };
}

/** The config file a runtime uses: `wanted` if given, else the first .conflist/.conf/.json by name. */
export function primaryConfFile(fileNames: readonly string[], wanted = ''): string | undefined {
  if (wanted) {
    if (fileNames.includes(wanted)) return wanted;
    // A .conf we chained into was renamed to .conflist.
    if (wanted.endsWith('.conf') && fileNames.includes(`${wanted}list`)) return `${wanted}list`;
    return undefined;
  }
  return fileNames.filter((f) => /\.(conflist|conf|json)$/.test(f)).sort()[0];
}

type Doc = Record<string, unknown>;

function parse(text: string, fileName: string): Doc {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${fileName}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new Error(`${fileName}: a CNI config must be a JSON object`);
  return doc as Doc;
}

function pluginsOf(doc: Doc, fileName: string): Doc[] {
  const plugins = doc.plugins;
  if (!Array.isArray(plugins) || plugins.length === 0)
    throw new Error(`${fileName}: "plugins" must be a non-empty array`);
  for (const p of plugins)
    if (typeof p !== 'object' || p === null || typeof (p as Doc).type !== 'string')
      throw new Error(`${fileName}: every plugin needs a "type"`);
  return plugins as Doc[];
}

const isOurs = (p: Doc) => p.type === PLUGIN_TYPE;
const serialize = (doc: Doc) => JSON.stringify(doc, null, 2) + '\n';

/**
 * The config with `entry` as its last plugin: `{ fileName, text }` to write (fileName changes from
 * .conf to .conflist for a single-plugin config), or undefined when it is already so.
 */
export function insertPlugin(
  text: string,
  fileName: string,
  entry: PluginEntry,
): { fileName: string; text: string } | undefined {
  const doc = parse(text, fileName);
  if (doc.plugins === undefined) {
    if (typeof doc.type !== 'string')
      throw new Error(`${fileName}: a single-plugin config needs a "type"`);
    const { cniVersion, name, ...plugin } = doc;
    return {
      fileName: fileName.replace(/\.(conf|json)$/, '.conflist'),
      text: serialize({ cniVersion, name, plugins: [plugin, entry] }),
    };
  }
  const plugins = pluginsOf(doc, fileName);
  const last = plugins[plugins.length - 1]!;
  if (
    isOurs(last) &&
    plugins.filter(isOurs).length === 1 &&
    JSON.stringify(last) === JSON.stringify(entry)
  )
    return undefined;
  return {
    fileName,
    text: serialize({ ...doc, plugins: [...plugins.filter((p) => !isOurs(p)), entry] }),
  };
}

/** The config without our plugin, or undefined when it holds none. */
export function removePlugin(text: string, fileName: string): string | undefined {
  const doc = parse(text, fileName);
  if (doc.plugins === undefined) return undefined;
  const plugins = pluginsOf(doc, fileName);
  if (!plugins.some(isOurs)) return undefined;
  return serialize({ ...doc, plugins: plugins.filter((p) => !isOurs(p)) });
}

/** Whether our plugin is the last one of the config. */
export function chainedLast(text: string, fileName: string): boolean {
  try {
    const doc = parse(text, fileName);
    const plugins = Array.isArray(doc.plugins) ? (doc.plugins as Doc[]) : [];
    return plugins.length > 0 && isOurs(plugins[plugins.length - 1]!);
  } catch {
    return false;
  }
}
