// The JSON access log: one line per request with Istio's default JSON fields (start_time, method,
// path, protocol, response_code, response_flags, response_code_details, bytes, duration,
// upstream_host, upstream_cluster, route_name, ...) plus the peer identity. Lines of one
// event-loop turn are written together.
import { getHeader } from '../http/headers.pure.js';
import { pathOnly } from '../http/message.pure.js';
import type { Exchange } from '../proxy/exchange.js';

export interface AccessLogSink {
  write(text: string): void;
}

export class AccessLog {
  readonly #sink: AccessLogSink;
  #lines: string[] = [];
  #scheduled = false;

  constructor(sink: AccessLogSink) {
    this.#sink = sink;
  }

  request(ex: Exchange): void {
    const r = ex.request;
    const c = ex.conn;
    const entry = {
      start_time: new Date(ex.startTime).toISOString(),
      method: r.method,
      path: r.path,
      protocol: r.protocol,
      response_code: ex.responseStatus,
      response_flags: ex.responseFlags,
      response_code_details: ex.details,
      grpc_status: ex.grpcStatus ?? null,
      bytes_received: ex.requestBytes,
      bytes_sent: ex.responseBytes,
      duration: Math.round(ex.durationMs),
      upstream_service_time: ex.upstreamServiceMs < 0 ? null : Math.round(ex.upstreamServiceMs),
      x_forwarded_for: getHeader(r.headers, 'x-forwarded-for') ?? null,
      user_agent: getHeader(r.headers, 'user-agent') ?? null,
      request_id: ex.requestId || null,
      authority: r.authority,
      upstream_host: ex.upstreamRemote || null,
      upstream_cluster: ex.clusterName || null,
      downstream_local_address: c.localAddress,
      downstream_remote_address: formatAddr(c.sourceAddress, c.sourcePort),
      downstream_peer_uri_san: c.peerPrincipal ?? null,
      destination: formatAddr(c.destinationAddress, c.destinationPort),
      requested_server_name: c.sni ?? null,
      route_name: ex.route?.name || null,
      attempts: ex.attempts,
      url_path: pathOnly(ex.urlPath),
    };
    this.line(JSON.stringify(entry));
  }

  /** Any JSON line (TCP connections use it too). */
  line(text: string): void {
    this.#lines.push(text);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#lines.length === 0) return;
    const text = `${this.#lines.join('\n')}\n`;
    this.#lines = [];
    this.#sink.write(text);
  }
}

function formatAddr(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
