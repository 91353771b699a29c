// The text formats of Istio's echo app, which the Gateway API mesh tests parse with regexes such
// as `StatusCode=(.*)`, `Hostname=(.*)`, `RequestHeader=(.*)` (conformance/utils/echo/parse.go):
//
// - the server's answer: one `Name=value` line per field, in upstream's order (HTTP body, gRPC
//   EchoResponse.message, the first bytes of a TCP connection);
// - the client's output per request: `[N] Name=value` lines about the exchange, the answer's
//   lines as `[N body] line`, and a blank line after each request (how `--count` batches split).

/** What a server reports about itself in every answer. */
export interface ServerIdentity {
  version: string;
  cluster: string;
  istioVersion: string;
  hostname: string;
}

const line = (name: string, value: string | number) => `${name}=${value}\n`;
const nonEmpty = (name: string, value: string) => (value ? line(name, value) : '');

export interface HttpRequestSeen {
  port: number;
  /** r.Host: the Host header, or :authority for HTTP/2. */
  host: string;
  /** The request target as sent. */
  requestUri: string;
  method: string;
  /** HTTP/1.1, HTTP/2.0 */
  proto: string;
  ip: string;
  /** For TLS: the negotiated ALPN protocol and the client's server name. */
  alpn?: string;
  sni?: string;
  /** Header lines in arrival order, Host and pseudo-headers left out. */
  headers: Array<[string, string]>;
}

/** The HTTP answer's body: errors (from query options) first, then the fields. */
export function httpEchoBody(s: ServerIdentity, r: HttpRequestSeen, errors: string[] = []): string {
  return (
    errors.map((e) => `${e}\n`).join('') +
    line('ServiceVersion', s.version) +
    line('ServicePort', r.port) +
    line('Host', r.host) +
    line('URL', r.requestUri) +
    nonEmpty('Cluster', s.cluster) +
    nonEmpty('IstioVersion', s.istioVersion) +
    line('Method', r.method) +
    line('Proto', r.proto) +
    line('IP', r.ip) +
    nonEmpty('Alpn', r.alpn ?? '') +
    nonEmpty('Sni', r.sni ?? '') +
    sortedHeaderLines('RequestHeader', r.headers).join('') +
    line('Hostname', s.hostname)
  );
}

export interface GrpcRequestSeen {
  port: number;
  authority: string;
  /** Metadata in arrival order (binary `-bin` entries are left out). */
  metadata: Array<[string, string]>;
  ip: string;
  message: string;
}

/** EchoResponse.message of the gRPC Echo call. */
export function grpcEchoBody(s: ServerIdentity, r: GrpcRequestSeen): string {
  const md = r.metadata.filter(([k]) => !k.endsWith('-bin'));
  return (
    line('Host', r.authority) +
    line('RequestHeader', `:authority:${r.authority}`) +
    md.map(([k, v]) => line('RequestHeader', `${k}:${v}`)).join('') +
    line('StatusCode', 200) +
    line('ServiceVersion', s.version) +
    line('ServicePort', r.port) +
    nonEmpty('Cluster', s.cluster) +
    line('IP', r.ip) +
    nonEmpty('IstioVersion', s.istioVersion) +
    line('Proto', 'GRPC') +
    line('Echo', r.message) +
    line('Hostname', s.hostname)
  );
}

/** What a TCP port writes before echoing the client's bytes. */
export function tcpEchoFields(s: ServerIdentity, r: { port: number; ip: string }): string {
  return (
    line('StatusCode', 200) +
    nonEmpty('Cluster', s.cluster) +
    nonEmpty('IstioVersion', s.istioVersion) +
    line('ServiceVersion', s.version) +
    line('ServicePort', r.port) +
    line('IP', r.ip) +
    line('Proto', 'TCP') +
    line('Hostname', s.hostname)
  );
}

/**
 * `Field=Name:value` lines sorted by canonical name (Go's http.Header order), each value on its
 * own line.
 */
export function sortedHeaderLines(field: string, headers: Array<[string, string]>): string[] {
  const byName = new Map<string, string[]>();
  for (const [k, v] of headers) {
    const name = canonicalHeaderKey(k);
    byName.set(name, [...(byName.get(name) ?? []), v]);
  }
  return [...byName.keys()]
    .sort()
    .flatMap((name) => byName.get(name)!.map((v) => line(field, `${name}:${v}`)));
}

/**
 * Go's textproto.CanonicalMIMEHeaderKey: "x-header-set" -> "X-Header-Set"; a name with a byte
 * that is not a token character is left as it is.
 */
export function canonicalHeaderKey(key: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return key;
  let upper = true;
  let out = '';
  for (const c of key) {
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  return out;
}

/** A remote address as Go prints it: IPv4-mapped IPv6 addresses as plain IPv4. */
export function plainIp(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

// ---- client output ----

const reqLine = (id: number, name: string, value: string | number) => `[${id}] ${name}=${value}\n`;

/** `[N body] line` for each non-empty line of an answer. */
export function bodyLines(id: number, body: string): string {
  return body
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `[${id} body] ${l}\n`)
    .join('');
}

export interface HttpExchange {
  url: string;
  /** Headers sent, as given (Host excluded). */
  sentHeaders: Array<[string, string]>;
  sourceIp: string;
  latency: string;
  activeRequests: number;
  status: number;
  /** Response header lines as received. */
  responseHeaders: Array<[string, string]>;
  body: string;
}

export function httpExchangeOutput(id: number, x: HttpExchange): string {
  return (
    reqLine(id, 'Url', x.url) +
    x.sentHeaders.map(([k, v]) => reqLine(id, 'Header', `${k}:${v}`)).join('') +
    reqLine(id, 'SourceIP', x.sourceIp) +
    reqLine(id, 'Latency', x.latency) +
    reqLine(id, 'ActiveRequests', x.activeRequests) +
    reqLine(id, 'StatusCode', x.status) +
    sortedHeaderLines('ResponseHeader', x.responseHeaders)
      .map((l) => `[${id}] ${l}`)
      .join('') +
    bodyLines(id, x.body)
  );
}

export interface GrpcExchange {
  latency: string;
  activeRequests: number;
  message: string;
  /** Response header metadata. */
  responseHeaders: Array<[string, string]>;
}

export function grpcExchangeOutput(id: number, x: GrpcExchange): string {
  return (
    reqLine(id, 'Latency', x.latency) +
    reqLine(id, 'ActiveRequests', x.activeRequests) +
    bodyLines(id, x.message) +
    x.responseHeaders.map(([k, v]) => reqLine(id, 'ResponseHeader', `${k}:${v}`)).join('')
  );
}

export interface TcpExchange {
  sourceIp: string;
  url: string;
  message: string;
  received: string;
}

export function tcpExchangeOutput(id: number, x: TcpExchange): string {
  return (
    reqLine(id, 'SourceIP', x.sourceIp) +
    reqLine(id, 'Url', x.url) +
    (x.message ? reqLine(id, 'Echo', x.message) : '') +
    bodyLines(id, x.received)
  );
}

/** The client's stdout: each request's lines followed by a blank line. */
export function clientOutput(outputs: string[]): string {
  return outputs.map((o) => `${o}\n`).join('');
}
