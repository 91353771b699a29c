// The CNI protocol as the plugin sees it (pure): the environment and stdin of a call, validated
// into typed values, and the spec's error JSON. Spec versions 0.3.0 to 1.1.0.

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const LATEST_VERSION = '1.1.0';
export const PLUGIN_TYPE = 'trellis-cni';

/** The spec's well-known error codes, and ours (100 and up). */
export const CniCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  ContainerUnknown: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  NotAvailable: 50,
  /** CHECK: the pod's redirection differs from what it should be. */
  RedirectionDrift: 100,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
  }
}

/** The error object the plugin prints on stdout (and exits non-zero). */
export function errorJson(err: CniError, cniVersion: string = LATEST_VERSION): string {
  const body: Record<string, unknown> = { cniVersion, code: err.code, msg: err.message };
  if (err.details) body.details = err.details;
  return JSON.stringify(body);
}

export type Command = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface CallEnv {
  command: Command;
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS as key/value pairs. */
  args: Record<string, string>;
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function validIfName(name: string): boolean {
  return (
    name.length > 0 && name.length <= 15 && name !== '.' && name !== '..' && !/[/:\s]/.test(name)
  );
}

/** CNI_ARGS: `K=V;K=V` (libcni's format). */
export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text.trim() === '') return out;
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new CniError(CniCode.InvalidEnvironment, `CNI_ARGS: '${pair}' is not KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Reads and checks the CNI_* variables the command needs. */
export function parseCallEnv(env: Readonly<Record<string, string | undefined>>): CallEnv {
  const command = env.CNI_COMMAND ?? '';
  if (command === '')
    throw new CniError(
      CniCode.InvalidEnvironment,
      'CNI_COMMAND is not set (ADD, DEL, CHECK, VERSION, STATUS or GC)',
    );
  if (!['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'].includes(command))
    throw new CniError(
      CniCode.InvalidEnvironment,
      `CNI_COMMAND '${command}' is not one of ADD, DEL, CHECK, VERSION, STATUS, GC`,
    );
  const c = command as Command;
  const perContainer = c === 'ADD' || c === 'DEL' || c === 'CHECK';
  const containerId = env.CNI_CONTAINERID ?? '';
  const netns = env.CNI_NETNS ?? '';
  const ifName = env.CNI_IFNAME ?? '';
  if (perContainer) {
    if (!CONTAINER_ID.test(containerId))
      throw new CniError(
        CniCode.InvalidEnvironment,
        containerId === ''
          ? `CNI_CONTAINERID is required for ${c}`
          : `CNI_CONTAINERID '${containerId}' must start with a letter or digit and hold only letters, digits, '_', '.' and '-'`,
      );
    if (c !== 'DEL' && netns === '')
      throw new CniError(CniCode.InvalidEnvironment, `CNI_NETNS is required for ${c}`);
    if (!validIfName(ifName))
      throw new CniError(
        CniCode.InvalidEnvironment,
        ifName === ''
          ? `CNI_IFNAME is required for ${c}`
          : `CNI_IFNAME '${ifName}' is not a valid interface name (1-15 characters, no '/', ':' or spaces)`,
      );
    if ((env.CNI_PATH ?? '') === '')
      throw new CniError(CniCode.InvalidEnvironment, `CNI_PATH is required for ${c}`);
  }
  return { command: c, containerId, netns, ifName, args: parseCniArgs(env.CNI_ARGS ?? '') };
}

export interface PluginConf {
  cniVersion: string;
  name: string;
  type: string;
  /** The agent's directory on the node: pluginevent.sock, the kubeconfig, enrolled-pod markers. */
  agentRunDir: string;
  excludeNamespaces: string[];
  /** The mesh's namespace (ztunnel pods there are never enrolled). */
  podNamespace: string;
  /** How long ADD/DEL/CHECK wait for the agent. */
  agentTimeoutMs: number;
  logLevel: string;
  /** The previous plugin's result, exactly as received (ADD passes it on unchanged). */
  prevResult: Record<string, unknown> | undefined;
}

function field<T>(
  o: Record<string, unknown>,
  key: string,
  check: (v: unknown) => v is T,
  want: string,
  fallback: T,
): T {
  const v = o[key];
  if (v === undefined) return fallback;
  if (!check(v))
    throw new CniError(
      CniCode.InvalidConfig,
      `network config: "${key}" must be ${want}, got ${JSON.stringify(v)}`,
    );
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isTimeout = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 60000;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** JSON.parse with a decode error (code 6) naming `what` on failure. */
function decode(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CniError(CniCode.DecodeFailure, `${what} is not JSON: ${(err as Error).message}`);
  }
}

/** Parses stdin for ADD/DEL/CHECK/STATUS/GC. */
export function parsePluginConf(stdin: string, command: Command): PluginConf {
  if (stdin.trim() === '')
    throw new CniError(CniCode.DecodeFailure, 'no network configuration on stdin');
  const doc = decode(stdin, 'network configuration on stdin');
  if (!isObject(doc))
    throw new CniError(
      CniCode.DecodeFailure,
      'network configuration on stdin must be a JSON object',
    );
  const cniVersion = doc.cniVersion;
  if (typeof cniVersion !== 'string' || cniVersion === '')
    throw new CniError(CniCode.InvalidConfig, 'network config: "cniVersion" is required');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(cniVersion))
    throw new CniError(
      CniCode.IncompatibleVersion,
      `CNI version ${cniVersion} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`,
    );
  if (command === 'CHECK' && compareVersions(cniVersion, '0.4.0') < 0)
    throw new CniError(
      CniCode.IncompatibleVersion,
      `CHECK needs CNI version 0.4.0 or later, the config says ${cniVersion}`,
    );
  if ((command === 'STATUS' || command === 'GC') && compareVersions(cniVersion, '1.1.0') < 0)
    throw new CniError(
      CniCode.IncompatibleVersion,
      `${command} needs CNI version 1.1.0, the config says ${cniVersion}`,
    );
  const name = doc.name;
  if (typeof name !== 'string' || name === '')
    throw new CniError(CniCode.InvalidConfig, 'network config: "name" is required');
  const type = doc.type;
  if (typeof type !== 'string' || type === '')
    throw new CniError(CniCode.InvalidConfig, 'network config: "type" is required');
  const prev = doc.prevResult;
  if (prev !== undefined && !isObject(prev))
    throw new CniError(
      CniCode.InvalidConfig,
      `network config: "prevResult" must be an object, got ${JSON.stringify(prev)}`,
    );
  if (command === 'CHECK' && prev === undefined)
    throw new CniError(
      CniCode.InvalidConfig,
      'CHECK needs "prevResult" (the result of the ADD being checked)',
    );
  return {
    cniVersion,
    name,
    type,
    agentRunDir: field(doc, 'cni_agent_run_dir', isString, 'a path', '/var/run/istio-cni'),
    excludeNamespaces: field(doc, 'exclude_namespaces', isStrings, 'an array of strings', []),
    podNamespace: field(doc, 'pod_namespace', isString, 'a string', 'istio-system'),
    agentTimeoutMs: field(doc, 'agent_timeout_ms', isTimeout, 'an integer from 1 to 60000', 5000),
    logLevel: field(doc, 'plugin_log_level', isString, 'a string', 'info'),
    prevResult: prev,
  };
}

/** VERSION's answer (its stdin may be empty or `{"cniVersion": ...}`). */
export function versionJson(stdin: string): string {
  let cniVersion = LATEST_VERSION;
  if (stdin.trim() !== '') {
    const doc = decode(stdin, 'VERSION: stdin');
    if (isObject(doc) && typeof doc.cniVersion === 'string' && doc.cniVersion !== '')
      cniVersion = doc.cniVersion;
  }
  return JSON.stringify({ cniVersion, supportedVersions: [...SUPPORTED_VERSIONS] });
}

/** The Kubernetes pod a call is for, from CNI_ARGS (undefined when it is not a Kubernetes pod). */
export function k8sPod(
  args: Record<string, string>,
): { namespace: string; name: string; uid: string } | undefined {
  const namespace = args.K8S_POD_NAMESPACE ?? '';
  const name = args.K8S_POD_NAME ?? '';
  if (namespace === '' || name === '') return undefined;
  return { namespace, name, uid: args.K8S_POD_UID ?? '' };
}
