// What to send: the ForwardEchoRequest message (field for field, as the gRPC ForwardEcho call
// carries it and as the `client` command builds it from its flags), and the plan derived from it
// with Istio's rules: count at least 1, a 5 s default timeout for the whole set, the Host header
// taken out of the headers to become the authority, GET by default, a new connection per request
// for https and tcp, TLS verification only when a CA is given, a TCP answer expected to contain
// "StatusCode=200".

export interface ProtoHeader {
  key: string;
  value: string;
}

export interface ProtoHbone {
  address: string;
}

/** proto.ForwardEchoRequest as @grpc/proto-loader gives it (camelCase names). */
export interface ForwardRequest {
  count: number;
  qps: number;
  timeoutMicros: number;
  url: string;
  headers: ProtoHeader[];
  message: string;
  method: string;
  http2: boolean;
  http3: boolean;
  serverFirst: boolean;
  followRedirects: boolean;
  cert: string;
  key: string;
  caCert: string;
  certFile: string;
  keyFile: string;
  caCertFile: string;
  insecureSkipVerify: boolean;
  alpn: { value: string[] } | null;
  serverName: string;
  expectedResponse: { value: string } | null;
  newConnectionPerRequest: boolean;
  forceDNSLookup: boolean;
  forceIpFamily: string;
  hbone: ProtoHbone | null;
  doubleHbone: ProtoHbone | null;
  proxyProtocolVersion: string;
  tlsMinVersion: string;
  tlsCurvePreferences: string[];
}

export function forwardRequest(fields: Partial<ForwardRequest>): ForwardRequest {
  return {
    count: 0,
    qps: 0,
    timeoutMicros: 0,
    url: '',
    headers: [],
    message: '',
    method: '',
    http2: false,
    http3: false,
    serverFirst: false,
    followRedirects: false,
    cert: '',
    key: '',
    caCert: '',
    certFile: '',
    keyFile: '',
    caCertFile: '',
    insecureSkipVerify: false,
    alpn: null,
    serverName: '',
    expectedResponse: null,
    newConnectionPerRequest: false,
    forceDNSLookup: false,
    forceIpFamily: '',
    hbone: null,
    doubleHbone: null,
    proxyProtocolVersion: 'NONE',
    tlsMinVersion: '',
    tlsCurvePreferences: [],
    ...fields,
  };
}

export type Scheme = 'http' | 'https' | 'grpc' | 'tcp';
export const SCHEMES: Scheme[] = ['http', 'https', 'grpc', 'tcp'];

/** TLS material: PEM text, or files to read (the file wins when both are given, as upstream). */
export type TlsMaterial = Pick<
  ForwardRequest,
  | 'cert'
  | 'key'
  | 'caCert'
  | 'certFile'
  | 'keyFile'
  | 'caCertFile'
  | 'insecureSkipVerify'
  | 'serverName'
> & { alpn: string[] };

export interface ForwardPlan {
  scheme: Scheme;
  /** The URL as given, printed as `Url=`. */
  url: string;
  /** host[:port] as written in the URL. */
  authority: string;
  host: string;
  port: number;
  /** The HTTP request target: the URL's path and query as written, "/" when empty. */
  path: string;
  /** A Host header given with the request ("" when none): the HTTP Host and gRPC authority. */
  hostHeader: string;
  /** The other headers, in the order given. */
  headers: Array<[string, string]>;
  method: string;
  count: number;
  qps: number;
  timeoutMs: number;
  message: string;
  http2: boolean;
  followRedirects: boolean;
  newConnectionPerRequest: boolean;
  /** 4 or 6 to force the address family of the connection, 0 for either. */
  family: 0 | 4 | 6;
  /** gRPC and TCP use TLS only when a client certificate is given (as upstream). */
  secure: boolean;
  /** What a TCP answer must contain. */
  expected: string;
  tls: TlsMaterial;
}

export class ForwardError extends Error {}

/** The request itself is wrong (as opposed to a request that failed). */
export class InvalidForwardRequest extends ForwardError {}

const DEFAULT_TIMEOUT_MS = 5000;

/** Checks the request and derives the plan; throws ForwardError with the reason. */
export function planForward(r: ForwardRequest): ForwardPlan {
  unsupported(r);
  const colon = r.url.indexOf(':');
  if (colon <= 0)
    throw new InvalidForwardRequest(`missing protocol scheme in the request URL: ${r.url}`);
  const scheme = r.url.slice(0, colon).toLowerCase();
  if (!SCHEMES.includes(scheme as Scheme))
    throw new InvalidForwardRequest(
      `scheme "${scheme}" is not supported by this echo client (supported: ${SCHEMES.join(', ')})`,
    );
  if (!r.url.slice(colon).startsWith('://'))
    throw new InvalidForwardRequest(`invalid URL ${r.url}: want ${scheme}://host[:port][/path]`);
  const rest = r.url.slice(colon + 3);
  const end = rest.search(/[/?]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  let path = end < 0 ? '' : rest.slice(end);
  if (path.startsWith('?')) path = `/${path}`;
  const { host, port } = splitAuthority(authority, scheme as Scheme, r.url);

  const headers: Array<[string, string]> = [];
  let hostHeader = '';
  for (const h of r.headers) {
    if (h.key === '') throw new InvalidForwardRequest('a header with an empty name');
    if (h.key.toLowerCase() === 'host') hostHeader ||= h.value;
    else headers.push([h.key, h.value]);
  }
  const family = ({ '': 0, tcp4: 4, tcp6: 6 } as const)[r.forceIpFamily as '' | 'tcp4' | 'tcp6'];
  if (family === undefined)
    throw new InvalidForwardRequest(`force_ip_family "${r.forceIpFamily}": want tcp4 or tcp6`);
  const timeoutMs = r.timeoutMicros > 0 ? r.timeoutMicros / 1000 : DEFAULT_TIMEOUT_MS;
  if (r.qps < 0) throw new InvalidForwardRequest(`qps ${r.qps}: must not be negative`);
  const isHttp = scheme === 'http' || scheme === 'https';
  return {
    scheme: scheme as Scheme,
    url: r.url,
    authority,
    host,
    port,
    path: path || '/',
    hostHeader,
    headers,
    method: r.method || 'GET',
    count: r.count > 1 ? r.count : 1,
    qps: r.qps,
    timeoutMs,
    message: r.message,
    http2: r.http2,
    followRedirects: r.followRedirects,
    newConnectionPerRequest: scheme === 'https' || scheme === 'tcp' || r.newConnectionPerRequest,
    family,
    secure: (!!r.cert || !!r.certFile) && (!!r.key || !!r.keyFile),
    expected: r.expectedResponse ? r.expectedResponse.value : 'StatusCode=200',
    tls: {
      cert: r.cert,
      key: r.key,
      caCert: r.caCert,
      certFile: r.certFile,
      keyFile: r.keyFile,
      caCertFile: r.caCertFile,
      insecureSkipVerify: r.insecureSkipVerify || (!r.caCert && !r.caCertFile),
      serverName: r.serverName || (scheme === 'https' ? hostHeader : ''),
      alpn: r.alpn?.value.length ? r.alpn.value : isHttp ? [r.http2 ? 'h2' : 'http/1.1'] : [],
    },
  };
}

function splitAuthority(
  authority: string,
  scheme: Scheme,
  url: string,
): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*))(?::(\d*))?$/.exec(authority);
  const host = m?.[1] ?? m?.[2];
  if (!m || !host) throw new InvalidForwardRequest(`invalid URL ${url}: no host`);
  if (m[3] === undefined || m[3] === '') {
    if (scheme === 'tcp')
      throw new InvalidForwardRequest(`invalid URL ${url}: missing port in address`);
    return { host, port: scheme === 'http' ? 80 : 443 };
  }
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new InvalidForwardRequest(`invalid URL ${url}: port ${m[3]}`);
  return { host, port };
}

function unsupported(r: ForwardRequest): void {
  const used: string[] = [];
  if (r.http3) used.push('http3');
  if (r.serverFirst) used.push('serverFirst');
  if (r.hbone?.address) used.push('hbone');
  if (r.doubleHbone?.address) used.push('double_hbone');
  if (r.proxyProtocolVersion && r.proxyProtocolVersion !== 'NONE')
    used.push('proxyProtocolVersion');
  if (r.tlsMinVersion) used.push('tls_min_version');
  if (r.tlsCurvePreferences.length) used.push('tls_curve_preferences');
  if (used.length)
    throw new InvalidForwardRequest(
      `not supported by this echo implementation: ${used.join(', ')}`,
    );
}
