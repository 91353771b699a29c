// The kubelet's WebSocket streaming protocols (facts from Kubernetes' wsstream and the kubelet's
// streaming server): every message carries one channel. Binary subprotocols prefix the payload
// with the channel number as one byte; base64 ones send text, the channel as an ASCII digit then
// the payload in base64. v5 adds a CLOSE signal: channel 255 with the closed channel as payload.
// exec/attach use channels stdin 0, stdout 1, stderr 2, error 3, resize 4; port-forward uses a
// (data, error) pair per forwarded port, 2n and 2n+1, each opened by the port as 2 bytes LE.

/** exec and attach over WebSocket; "" is a client that asked for no subprotocol. */
export const WS_REMOTE_COMMAND_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'channel.k8s.io',
  'base64.channel.k8s.io',
  '',
];
/** port-forward over WebSocket (v4 only: the kubelet has no v5 port-forward). */
export const WS_PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', ''];

export const REMOTE_COMMAND_CHANNELS = ['stdin', 'stdout', 'stderr', 'error', 'resize'] as const;

const CLOSE_SIGNAL = 255;

export const isBase64Protocol = (protocol: string): boolean => protocol.includes('base64.');

/** The remote-command protocol whose error-stream format this WebSocket subprotocol uses. */
export const statusProtocolOf = (protocol: string): string =>
  protocol.startsWith('v4.') || protocol.startsWith('v5.') ? 'v4.channel.k8s.io' : 'channel.k8s.io';

/**
 * The subprotocol to accept from a Sec-WebSocket-Protocol header: the client's first one we
 * speak, "" when it offered none, undefined when it offered only ones we do not speak.
 */
export function negotiateWsProtocol(
  header: string | undefined,
  supported: readonly string[],
): string | undefined {
  const offered = (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (offered.length === 0) return supported.includes('') ? '' : undefined;
  return offered.find((p) => supported.includes(p));
}

/** One outgoing message on a channel. */
export function encodeMessage(protocol: string, channel: number, data: Buffer): Buffer | string {
  if (isBase64Protocol(protocol))
    return String.fromCharCode(48 + channel) + data.toString('base64');
  return Buffer.concat([Buffer.from([channel]), data]);
}

export type Incoming =
  { channel: number; data: Buffer } | { close: number } | { error: string } | undefined;

/** One incoming message: data for a channel, a v5 CLOSE of a channel, nothing (empty) or garbage. */
export function decodeMessage(protocol: string, message: Buffer): Incoming {
  if (message.length === 0) return undefined;
  if (protocol.startsWith('v5.') && message[0] === CLOSE_SIGNAL) {
    if (message.length < 2) return { error: 'CLOSE signal without a channel' };
    return { close: message[1]! };
  }
  if (!isBase64Protocol(protocol)) return { channel: message[0]!, data: message.subarray(1) };
  const channel = message[0]! - 48;
  const text = message.subarray(1).toString('latin1');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
    return { error: `channel ${channel}: payload is not base64` };
  return { channel, data: Buffer.from(text, 'base64') };
}

/** The ports of a WebSocket port-forward request: query "port", repeated or comma-separated. */
export function webSocketPorts(url: string): number[] | { error: string } {
  const values = new URL(url, 'https://kubelet').searchParams.getAll('port');
  if (values.length === 0) return { error: 'query parameter "port" is required' };
  const ports: number[] = [];
  for (const v of values) {
    if (v === '') return { error: 'query parameter "port" cannot be empty' };
    for (const p of v.split(',')) {
      if (!/^\d+$/.test(p) || Number(p) > 65535)
        return { error: `unable to parse "${v}" as a port` };
      if (Number(p) < 1) return { error: `port "${v}" must be > 0` };
      ports.push(Number(p));
    }
  }
  return ports;
}

/** The first message of each port-forward channel: the port, 2 bytes little-endian. */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}
