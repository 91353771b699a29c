// The `client` command's flags, as Istio's echo client names them, turned into a
// ForwardEchoRequest. The Gateway API mesh tests run `client <scheme>://<host><path>` with
// `--method=`, `-H name:value` (repeated) and `--count=N`; the rest are here for people.
import { FlagError, parseFlags, unsupportedFlags, type FlagSpec } from './flags.pure.js';
import { forwardRequest, type ForwardRequest } from './forward-request.pure.js';
import { parseGoDuration } from './go-duration.pure.js';

export const CLIENT_FLAGS: FlagSpec[] = [
  { name: 'count', kind: 'int', default: 1, help: 'number of requests to make' },
  { name: 'qps', kind: 'int', default: 0, help: 'requests per second (0: as fast as possible)' },
  {
    name: 'timeout',
    kind: 'string',
    default: '5s',
    help: 'timeout for the whole set of requests (Go duration)',
  },
  {
    name: 'header',
    short: 'H',
    kind: 'repeated',
    help: 'a request header "name:value" (Host sets the authority); repeatable',
  },
  { name: 'method', kind: 'string', help: 'HTTP method (default GET)' },
  { name: 'msg', kind: 'string', default: 'HelloWorld', help: 'message to send (gRPC and TCP)' },
  {
    name: 'expect',
    kind: 'string',
    help: 'text a TCP answer must contain (default StatusCode=200)',
  },
  {
    name: 'http2',
    kind: 'bool',
    help: 'HTTP/2 (h2c with prior knowledge for http://, ALPN h2 for https://)',
  },
  {
    name: 'ca',
    kind: 'string',
    help: 'CA certificate file to verify the server with (without it TLS is not verified)',
  },
  {
    name: 'insecure-skip-verify',
    short: 'k',
    kind: 'bool',
    help: 'do not verify the server certificate',
  },
  { name: 'client-cert', kind: 'string', help: 'client certificate file' },
  { name: 'client-key', kind: 'string', help: 'client key file' },
  { name: 'server-name', kind: 'string', help: 'TLS server name (SNI)' },
  { name: 'alpn', kind: 'strings', help: 'ALPN protocols to offer' },
  { name: 'follow-redirects', short: 'L', kind: 'bool', help: 'follow 3xx redirects' },
  {
    name: 'new-connection-per-request',
    kind: 'bool',
    help: 'a new connection for each request (always for https and tcp)',
  },
  {
    name: 'force-dns-lookup',
    kind: 'bool',
    help: 'resolve the host for each connection (this client always does)',
  },
  { name: 'ipv4', short: '4', kind: 'bool', help: 'connect over IPv4 only' },
  { name: 'ipv6', short: '6', kind: 'bool', help: 'connect over IPv6 only' },
];

export const UNSUPPORTED_CLIENT_FLAGS = unsupportedFlags(
  [
    'uds',
    'http3',
    'server-first',
    'tls-min-version',
    'tls-curve-preferences',
    'hbone',
    'double-hbone',
    'hbone-header',
    'M',
    'hbone-ca',
    'hbone-client-cert',
    'hbone-client-key',
    'hbone-insecure-skip-verify',
    'inner-hbone-ca',
    'inner-hbone-insecure-skip-verify',
  ],
  'an Istio echo client flag that this implementation does not offer',
);

/** Parses the client's arguments; throws FlagError naming the problem. */
export function parseClientArgs(argv: string[]): ForwardRequest | 'help' {
  const f = parseFlags(argv, CLIENT_FLAGS, UNSUPPORTED_CLIENT_FLAGS);
  if (f.help) return 'help';
  if (f.positional.length !== 1)
    throw new FlagError(
      `want exactly one URL argument (e.g. http://echo/path), got ${f.positional.length}`,
    );
  const v = f.values;
  if (v.ipv4 && v.ipv6) throw new FlagError('--ipv4 and --ipv6 are mutually exclusive');
  let timeoutNs: number;
  try {
    timeoutNs = parseGoDuration(v.timeout as string);
  } catch (e) {
    throw new FlagError(`--timeout: ${(e as Error).message}`);
  }
  if (timeoutNs <= 0) throw new FlagError(`--timeout=${String(v.timeout)}: must be positive`);
  const count = v.count as number;
  if (count < 0) throw new FlagError(`--count=${count}: must not be negative`);
  const qps = v.qps as number;
  if (qps < 0) throw new FlagError(`--qps=${qps}: must not be negative`);
  const headers = (v.header as string[]).map((h) => {
    const colon = h.indexOf(':');
    if (colon < 0) throw new FlagError(`invalid header format: "${h}" (want name:value)`);
    return { key: h.slice(0, colon), value: h.slice(colon + 1).trim() };
  });
  const certFile = v['client-cert'] as string;
  const keyFile = v['client-key'] as string;
  if (!!certFile !== !!keyFile) throw new FlagError('--client-cert and --client-key go together');
  const alpn = v.alpn as string[];
  return forwardRequest({
    url: withScheme(f.positional[0]!),
    count,
    qps,
    timeoutMicros: Math.round(timeoutNs / 1000),
    headers,
    message: v.msg as string,
    method: v.method as string,
    http2: v.http2 as boolean,
    followRedirects: v['follow-redirects'] as boolean,
    newConnectionPerRequest: v['new-connection-per-request'] as boolean,
    forceDNSLookup: v['force-dns-lookup'] as boolean,
    forceIpFamily: v.ipv4 ? 'tcp4' : v.ipv6 ? 'tcp6' : '',
    insecureSkipVerify: v['insecure-skip-verify'] as boolean,
    serverName: v['server-name'] as string,
    alpn: alpn.length ? { value: alpn } : null,
    expectedResponse: f.changed.has('expect') ? { value: v.expect as string } : null,
    certFile,
    keyFile,
    caCertFile: v.ca as string,
  });
}

/** curl's rule: a URL without a scheme is http. */
function withScheme(url: string): string {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(url) ? url : `http://${url}`;
}
