// The `server` command's flags, as Istio's echo server names them, turned into a validated list
// of listeners. Ports: `--port` (HTTP/1.1 and h2c), `--grpc`, `--tcp`, each repeatable and
// comma-separated, defaults 8080, 7070 and 9090; `--tls` marks some of those ports as TLS (with
// `--crt`/`--key`). The Gateway API mesh manifests run it with
// `--tcp=9090 --port=8080 --grpc=7070 --port=8443 --tls=8443 --crt=/cert.crt --key=/cert.key`.
import { FlagError, parseFlags, unsupportedFlags, type FlagSpec } from './flags.pure.js';

export type ListenerProtocol = 'http' | 'grpc' | 'tcp';

export interface Listener {
  protocol: ListenerProtocol;
  port: number;
  tls: boolean;
}

export interface ServerConfig {
  listeners: Listener[];
  crt: string;
  key: string;
  /** Reported as ServiceVersion=, Cluster=, IstioVersion= in every answer. */
  version: string;
  cluster: string;
  istioVersion: string;
  /** TLS listeners offer no ALPN protocols (clients then speak HTTP/1.1). */
  disableAlpn: boolean;
}

export const SERVER_FLAGS: FlagSpec[] = [
  {
    name: 'port',
    kind: 'ints',
    default: [8080],
    help: 'HTTP ports (HTTP/1.1 and h2c; with --tls also h2)',
  },
  {
    name: 'grpc',
    kind: 'ints',
    default: [7070],
    help: 'gRPC ports (EchoTestService, grpc.health.v1)',
  },
  { name: 'tcp', kind: 'ints', default: [9090], help: 'TCP echo ports' },
  { name: 'tls', kind: 'ints', help: 'ports (of --port, --grpc, --tcp) that use TLS' },
  { name: 'crt', kind: 'string', help: 'TLS server certificate file (PEM)' },
  { name: 'key', kind: 'string', help: 'TLS server key file (PEM)' },
  { name: 'version', kind: 'string', help: 'version reported as ServiceVersion=' },
  { name: 'cluster', kind: 'string', help: 'cluster reported as Cluster=' },
  { name: 'istio-version', kind: 'string', help: 'reported as IstioVersion=' },
  { name: 'disable-alpn', kind: 'bool', help: 'offer no ALPN protocols on TLS ports' },
];

/** Upstream flags we recognise but do not implement: using one is an error that says so. */
export const UNSUPPORTED_SERVER_FLAGS = unsupportedFlags(
  [
    'udp',
    'mtls',
    'ca',
    'hbone',
    'double-hbone',
    'bind-ip',
    'bind-localhost',
    'server-first',
    'proxy-protocol',
    'xds-grpc-server',
    'endpoint-picker',
    'metrics',
    'uds',
    'tls-min-version',
    'tls-curve-preferences',
  ],
  'an Istio echo server flag that this implementation does not offer',
);

/** Parses and validates the server's arguments; throws FlagError naming the problem. */
export function parseServerArgs(argv: string[]): ServerConfig | 'help' {
  const f = parseFlags(argv, SERVER_FLAGS, UNSUPPORTED_SERVER_FLAGS);
  if (f.help) return 'help';
  if (f.positional.length)
    throw new FlagError(`unexpected argument "${f.positional[0]}": the server takes only flags`);
  const v = f.values;
  const listeners: Listener[] = [];
  const owner = new Map<number, string>();
  for (const protocol of ['http', 'grpc', 'tcp'] as const) {
    const flag = protocol === 'http' ? 'port' : protocol;
    for (const port of v[flag] as number[]) {
      checkPort(port, `--${flag}`);
      if (port !== 0 && owner.has(port))
        throw new FlagError(`port ${port} is given twice (${owner.get(port)} and --${flag})`);
      if (port !== 0) owner.set(port, `--${flag}`);
      listeners.push({ protocol, port, tls: false });
    }
  }
  for (const port of v.tls as number[]) {
    checkPort(port, '--tls');
    const l = listeners.find((x) => x.port === port && port !== 0);
    if (!l) throw new FlagError(`--tls=${port}: not one of the --port, --grpc or --tcp ports`);
    l.tls = true;
  }
  const crt = v.crt as string;
  const key = v.key as string;
  if (listeners.some((l) => l.tls) && (!crt || !key))
    throw new FlagError('TLS ports (--tls) need --crt and --key');
  return {
    listeners,
    crt,
    key,
    version: v.version as string,
    cluster: v.cluster as string,
    istioVersion: v['istio-version'] as string,
    disableAlpn: v['disable-alpn'] as boolean,
  };
}

function checkPort(port: number, flag: string): void {
  if (port < 0 || port > 65535) throw new FlagError(`${flag}=${port}: a port is 0-65535`);
}
