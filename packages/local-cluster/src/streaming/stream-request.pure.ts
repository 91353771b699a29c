// The kubelet's streaming endpoints as the apiserver calls them, and what goes back on the error
// stream: request parsing, protocol negotiation and status documents (facts from the kubelet's
// streaming server; the JSON shapes are metav1.Status).

export const REMOTE_COMMAND_PROTOCOLS = [
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
];
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export type StreamRequest =
  | {
      kind: 'exec' | 'attach';
      namespace: string;
      pod: string;
      uid?: string;
      container: string;
      command: string[];
      options: StreamOptions;
    }
  | { kind: 'portForward'; namespace: string; pod: string; uid?: string };

/** Parses /exec|attach/<ns>/<pod>[/<uid>]/<container> and /portForward/<ns>/<pod>[/<uid>]. */
export function parseStreamRequest(url: string): StreamRequest | { error: string } | undefined {
  const u = new URL(url, 'https://kubelet');
  const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [kind, ...rest] = parts;
  if (kind === 'portForward') {
    if (rest.length < 2 || rest.length > 3)
      return { error: `malformed port-forward path ${u.pathname}` };
    return { kind, namespace: rest[0]!, pod: rest[1]!, uid: rest[2] };
  }
  if (kind !== 'exec' && kind !== 'attach') return undefined;
  if (rest.length < 3 || rest.length > 4) return { error: `malformed ${kind} path ${u.pathname}` };
  const q = u.searchParams;
  const tty = q.get('tty') === '1';
  const options: StreamOptions = {
    stdin: q.get('input') === '1',
    stdout: q.get('output') === '1',
    // Like the kubelet: a TTY merges stderr into stdout.
    stderr: q.get('error') === '1' && !tty,
    tty,
  };
  if (!options.stdin && !options.stdout && !options.stderr)
    return { error: 'you must specify at least 1 of stdin, stdout, stderr' };
  const command = q.getAll('command');
  if (kind === 'exec' && command.length === 0) return { error: 'exec needs a command' };
  return {
    kind,
    namespace: rest[0]!,
    pod: rest[1]!,
    uid: rest.length === 4 ? rest[2] : undefined,
    container: rest.at(-1)!,
    command,
    options,
  };
}

/** The client's first offered protocol that the server speaks (X-Stream-Protocol-Version). */
export function negotiateProtocol(
  offered: string | string[] | undefined,
  supported: readonly string[],
): string | undefined {
  const list = (Array.isArray(offered) ? offered : [offered ?? ''])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return list.find((p) => supported.includes(p));
}

/** How many streams the client opens for a remote command (error + requested + resize). */
export function expectedStreamCount(o: StreamOptions, protocol: string): number {
  const resize = o.tty && (protocol === 'v4.channel.k8s.io' || protocol === 'v3.channel.k8s.io');
  return 1 + Number(o.stdin) + Number(o.stdout) + Number(o.stderr) + Number(resize);
}

export type CommandOutcome = { exitCode: number } | { error: string };

/**
 * What the error stream carries when the command ends: v4 sends a metav1.Status as JSON (exit
 * codes as a NonZeroExitCode cause), older protocols send the error text and nothing on success.
 */
export function errorStreamPayload(
  protocol: string,
  outcome: CommandOutcome,
  command: readonly string[],
): string {
  let status: Record<string, unknown>;
  if ('error' in outcome) {
    const message = `Internal error occurred: ${outcome.error}`;
    status = {
      metadata: {},
      status: 'Failure',
      message,
      reason: 'InternalError',
      details: { causes: [{ message: outcome.error }] },
      code: 500,
    };
  } else if (outcome.exitCode === 0) {
    status = { metadata: {}, status: 'Success' };
  } else {
    status = {
      metadata: {},
      status: 'Failure',
      message: `command terminated with non-zero exit code: command ${JSON.stringify(command.join(' '))} exited with ${outcome.exitCode}`,
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: String(outcome.exitCode) }] },
    };
  }
  if (protocol === 'v4.channel.k8s.io') return JSON.stringify(status);
  return status.status === 'Success' ? '' : String(status.message);
}

/** Validates the headers of a port-forward stream; returns the port or the reason it is refused. */
export function portForwardStream(
  port: string | undefined,
  streamType: string | undefined,
): { port: number; type: 'data' | 'error' } | { error: string } {
  if (!port) return { error: '"port" header is required' };
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    return { error: `unable to parse "${port}" as a port` };
  if (!streamType) return { error: '"streamType" header is required' };
  if (streamType !== 'data' && streamType !== 'error')
    return { error: `invalid stream type "${streamType}"` };
  return { port: Number(port), type: streamType };
}
