// The chained plugin's commands, with its I/O injected (the Kubernetes lookup, the agent call, the
// marker check) so every path is tested without a runtime. ADD passes prevResult on unchanged; a
// pod that is not enrolled never reaches the agent; an enrolled pod fails ADD only when the agent
// could not set up its redirection (and the error says why).
import { podEnrollment, type Enrollment } from '../enrollment.pure.js';
import {
  ADD_PATH,
  CHECK_PATH,
  DEL_PATH,
  ENROLLED_DIR,
  KUBECONFIG_FILE,
  PLUGIN_EVENT_SOCKET,
  resultIps,
  type PodEvent,
} from '../plugin-events.pure.js';
import {
  CniCode,
  CniError,
  errorJson,
  k8sPod,
  LATEST_VERSION,
  parseCallEnv,
  parsePluginConf,
  versionJson,
  type CallEnv,
  type PluginConf,
} from './cni-protocol.pure.js';

export interface PodLookup {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  hostNetwork: boolean;
  namespaceLabels: Record<string, string>;
}

export interface PluginIo {
  /** The pod and its namespace from the API (kubeconfig in the agent's run dir); throws on failure. */
  lookupPod(
    kubeconfigPath: string,
    namespace: string,
    name: string,
    timeoutMs: number,
  ): Promise<PodLookup>;
  /** POSTs an event to the agent; throws an Error whose message says why it failed. */
  callAgent(socketPath: string, path: string, event: PodEvent, timeoutMs: number): Promise<void>;
  exists(path: string): boolean;
  /** One structured log line (stderr; never stdout, which carries the result). */
  log(
    level: 'debug' | 'info' | 'warn' | 'error',
    msg: string,
    fields?: Record<string, unknown>,
  ): void;
}

export interface PluginOutput {
  stdout: string;
  exitCode: number;
}

const join = (dir: string, file: string) => `${dir.replace(/\/+$/, '')}/${file}`;

export async function runPlugin(
  env: Readonly<Record<string, string | undefined>>,
  stdin: string,
  io: PluginIo,
): Promise<PluginOutput> {
  let version = LATEST_VERSION;
  try {
    const call = parseCallEnv(env);
    if (call.command === 'VERSION') return { stdout: versionJson(stdin), exitCode: 0 };
    const conf = parsePluginConf(stdin, call.command);
    version = conf.cniVersion;
    switch (call.command) {
      case 'ADD':
        return { stdout: await add(call, conf, io), exitCode: 0 };
      case 'DEL':
        await del(call, conf, io);
        return { stdout: '', exitCode: 0 };
      case 'CHECK':
        await check(call, conf, io);
        return { stdout: '', exitCode: 0 };
      case 'STATUS':
        status(conf, io);
        return { stdout: '', exitCode: 0 };
      case 'GC':
        // Redirection state belongs to the agent, which removes it when pods go away.
        return { stdout: '', exitCode: 0 };
    }
  } catch (err) {
    const e =
      err instanceof CniError
        ? err
        : new CniError(CniCode.IoFailure, `trellis-cni: ${(err as Error).message}`);
    io.log('error', e.message, { code: e.code, command: env.CNI_COMMAND });
    return { stdout: errorJson(e, version), exitCode: 1 };
  }
}

function event(
  call: CallEnv,
  pod: { namespace: string; name: string; uid: string },
  ips: string[],
): PodEvent {
  return {
    podName: pod.name,
    podNamespace: pod.namespace,
    podUid: pod.uid,
    containerId: call.containerId,
    netns: call.netns,
    ips,
  };
}

/** Enrollment from the API; an API failure counts as "not enrolled" (the agent enrolls it later). */
async function enrollmentOf(
  conf: PluginConf,
  pod: { namespace: string; name: string },
  io: PluginIo,
): Promise<Enrollment> {
  if (conf.excludeNamespaces.includes(pod.namespace))
    return { enrolled: false, why: `namespace ${pod.namespace} is excluded` };
  let found: PodLookup;
  try {
    found = await io.lookupPod(
      join(conf.agentRunDir, KUBECONFIG_FILE),
      pod.namespace,
      pod.name,
      conf.agentTimeoutMs,
    );
  } catch (err) {
    io.log(
      'warn',
      'cannot tell whether the pod is enrolled; letting it start, the agent redirects it if it should be',
      {
        pod: `${pod.namespace}/${pod.name}`,
        err: (err as Error).message,
      },
    );
    return { enrolled: false, why: `API lookup failed: ${(err as Error).message}` };
  }
  return podEnrollment(
    {
      ...pod,
      labels: found.labels,
      annotations: found.annotations,
      hostNetwork: found.hostNetwork,
    },
    found.namespaceLabels,
    { excludeNamespaces: conf.excludeNamespaces, systemNamespace: conf.podNamespace },
  );
}

async function add(call: CallEnv, conf: PluginConf, io: PluginIo): Promise<string> {
  const passThrough = JSON.stringify(conf.prevResult ?? { cniVersion: conf.cniVersion });
  const pod = k8sPod(call.args);
  if (!pod) {
    io.log('debug', 'not a Kubernetes pod (no K8S_POD_NAME/K8S_POD_NAMESPACE in CNI_ARGS)');
    return passThrough;
  }
  const verdict = await enrollmentOf(conf, pod, io);
  if (!verdict.enrolled) {
    io.log('debug', 'pod not enrolled', { pod: `${pod.namespace}/${pod.name}`, why: verdict.why });
    return passThrough;
  }
  const socket = join(conf.agentRunDir, PLUGIN_EVENT_SOCKET);
  try {
    await io.callAgent(
      socket,
      ADD_PATH,
      event(call, pod, resultIps(conf.prevResult)),
      conf.agentTimeoutMs,
    );
  } catch (err) {
    throw new CniError(
      CniCode.TryAgainLater,
      `pod ${pod.namespace}/${pod.name} is in the ambient mesh (${verdict.by} label) but its traffic redirection could not be set up: ${(err as Error).message}`,
    );
  }
  io.log('info', 'pod redirected', { pod: `${pod.namespace}/${pod.name}` });
  return passThrough;
}

function markerFor(conf: PluginConf, uid: string): string | undefined {
  return uid === '' ? undefined : join(join(conf.agentRunDir, ENROLLED_DIR), uid);
}

async function del(call: CallEnv, conf: PluginConf, io: PluginIo): Promise<void> {
  const pod = k8sPod(call.args);
  if (!pod) return;
  const marker = markerFor(conf, pod.uid);
  // Only pods the agent redirected (it keeps a marker per pod uid) are worth its time; DEL never fails.
  if (!marker || !io.exists(marker)) return;
  try {
    await io.callAgent(
      join(conf.agentRunDir, PLUGIN_EVENT_SOCKET),
      DEL_PATH,
      event(call, pod, []),
      conf.agentTimeoutMs,
    );
  } catch (err) {
    io.log(
      'warn',
      'the agent did not take the DEL; it removes the pod when the API says it is gone',
      {
        pod: `${pod.namespace}/${pod.name}`,
        err: (err as Error).message,
      },
    );
  }
}

async function check(call: CallEnv, conf: PluginConf, io: PluginIo): Promise<void> {
  const pod = k8sPod(call.args);
  if (!pod) return;
  const verdict = await enrollmentOf(conf, pod, io);
  if (!verdict.enrolled) return;
  try {
    await io.callAgent(
      join(conf.agentRunDir, PLUGIN_EVENT_SOCKET),
      CHECK_PATH,
      event(call, pod, resultIps(conf.prevResult)),
      conf.agentTimeoutMs,
    );
  } catch (err) {
    throw new CniError(
      CniCode.RedirectionDrift,
      `pod ${pod.namespace}/${pod.name} should be redirected into ztunnel but is not as it should be: ${(err as Error).message}`,
    );
  }
}

/** STATUS: available when the agent's files the plugin relies on are in place. */
function status(conf: PluginConf, io: PluginIo): void {
  const kubeconfig = join(conf.agentRunDir, KUBECONFIG_FILE);
  if (!io.exists(kubeconfig))
    throw new CniError(
      CniCode.NotAvailable,
      `${kubeconfig} is missing: trellis-cni-agent is not installed on this node (or was uninstalled)`,
    );
}
