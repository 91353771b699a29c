// The plugin -> agent contract on pluginevent.sock (pure): HTTP POSTs of JSON events, answered
// 200 (done) or an error status with a plain-text reason the plugin shows in its CNI error.

export const PLUGIN_EVENT_SOCKET = 'pluginevent.sock';
export const ADD_PATH = '/cmdadd';
export const DEL_PATH = '/cmddel';
export const CHECK_PATH = '/cmdcheck';
/** Directory (in the run dir) holding one empty file per redirected pod uid: the plugin's hint. */
export const ENROLLED_DIR = 'enrolled';
export const KUBECONFIG_FILE = 'trellis-cni-kubeconfig';

export interface PodEvent {
  podName: string;
  podNamespace: string;
  podUid: string;
  containerId: string;
  /** CNI_NETNS as the runtime gave it. */
  netns: string;
  /** Addresses from prevResult (CIDR form stripped), ADD only. */
  ips: string[];
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** Validates an event body; throws with what is wrong. */
export function parsePodEvent(body: string, needNetns: boolean): PodEvent {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new Error(`event is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null) throw new Error('event must be a JSON object');
  const d = doc as Record<string, unknown>;
  for (const k of ['podName', 'podNamespace', 'podUid', 'containerId', 'netns'] as const)
    if (!isString(d[k])) throw new Error(`event: "${k}" must be a string`);
  if (d.podName === '' || d.podNamespace === '')
    throw new Error('event: podName and podNamespace are required');
  if (needNetns && d.netns === '') throw new Error('event: netns is required');
  const ips = d.ips ?? [];
  if (!Array.isArray(ips) || !ips.every(isString))
    throw new Error('event: "ips" must be an array of strings');
  return {
    podName: d.podName as string,
    podNamespace: d.podNamespace as string,
    podUid: d.podUid as string,
    containerId: d.containerId as string,
    netns: d.netns as string,
    ips,
  };
}

/** The pod's addresses from a CNI result (any version): `ips[].address` (1.x / 0.3+), CIDR dropped. */
export function resultIps(prevResult: Record<string, unknown> | undefined): string[] {
  const ips = prevResult?.ips;
  if (!Array.isArray(ips)) return [];
  return ips
    .map((i) =>
      typeof i === 'object' && i !== null ? (i as { address?: unknown }).address : undefined,
    )
    .filter((a): a is string => typeof a === 'string')
    .map((a) => a.split('/')[0]!);
}
