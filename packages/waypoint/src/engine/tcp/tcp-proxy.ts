// envoy.filters.network.tcp_proxy: one downstream connection spliced to one upstream connection of
// the chosen cluster (weighted), retried on other hosts up to max_connect_attempts, closed after
// the idle timeout. Istio TCP metrics and an access-log line per connection.
import type { Duplex } from 'node:stream';
import { reset, splice } from '@trellis/hbone';
import type { Logger } from '@trellis/core';
import type { TcpProxyConfig } from '../model/listener.js';
import type { ConnectionInfo } from '../proxy/context.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import type { Connector } from '../upstream/stream.js';
import type { AccessLog } from '../telemetry/access-log.js';
import { destinationOf } from '../telemetry/observer.js';
import { tcpLabels, type TcpMetrics } from '../telemetry/tcp-metrics.js';

export interface TcpProxyDeps {
  readonly cluster: (name: string) => ClusterRuntime | undefined;
  readonly connector: Connector;
  readonly metrics: TcpMetrics;
  readonly accessLog?: AccessLog;
  readonly reporter: string;
  readonly random: () => number;
  readonly logger: Logger;
}

/** Proxies `socket` (with `initial` bytes already read) per `cfg`; resolves when both sides are done. */
export async function proxyTcp(
  socket: Duplex,
  initial: Buffer | undefined,
  cfg: TcpProxyConfig,
  conn: ConnectionInfo,
  d: TcpProxyDeps,
): Promise<void> {
  const start = Date.now();
  let x = d.random() * cfg.totalWeight;
  let target = cfg.targets[0]!;
  for (const t of cfg.targets) {
    if (x < t.weight) {
      target = t;
      break;
    }
    x -= t.weight;
  }
  const cluster = d.cluster(target.cluster);
  const dest = destinationOf(target.cluster, cluster);
  const log = (
    flags: string,
    host: Host | undefined,
    received: number,
    sent: number,
    error?: string,
  ) =>
    d.accessLog?.line(
      JSON.stringify({
        start_time: new Date(start).toISOString(),
        protocol: 'tcp',
        response_flags: flags,
        bytes_received: received,
        bytes_sent: sent,
        duration: Date.now() - start,
        upstream_host: host?.address ?? null,
        upstream_cluster: target.cluster,
        downstream_remote_address: `${conn.sourceAddress}:${conn.sourcePort}`,
        downstream_peer_uri_san: conn.peerPrincipal ?? null,
        destination: `${conn.destinationAddress}:${conn.destinationPort}`,
        ...(error ? { error } : {}),
      }),
    );
  if (!cluster) {
    log('NC', undefined, 0, 0);
    reset(socket, new Error(`cluster ${target.cluster} not found`));
    return;
  }
  socket.pause();
  let upstream: Duplex | undefined;
  let host: Host | undefined;
  let lastError = '';
  const tried = new Set<Host>();
  for (let attempt = 0; attempt < Math.max(1, cfg.maxConnectAttempts) && !upstream; attempt++) {
    host = cluster.pick({ random: d.random, avoid: tried, destination: conn });
    if (!host) break;
    tried.add(host);
    const ac = new AbortController();
    const timer = setTimeout(
      () => ac.abort(new Error('connect timeout')),
      cluster.config.connectTimeoutMs,
    );
    try {
      upstream = await d.connector.connect(host.endpoint, cluster.config, ac.signal);
      cluster.outlier?.reportLocalSuccess(host);
    } catch (err) {
      lastError = (err as Error).message;
      cluster.outlier?.reportLocalFailure(host);
    } finally {
      clearTimeout(timer);
    }
  }
  if (!upstream) {
    const flags = host ? 'UF' : 'UH';
    d.metrics.closed(tcpLabels(d.reporter, conn.peer, conn.security, dest, host, flags), 0, 0);
    log(flags, host, 0, 0, lastError || 'no healthy upstream');
    reset(socket, new Error(lastError || 'no healthy upstream'));
    return;
  }
  const labels = tcpLabels(d.reporter, conn.peer, conn.security, dest, host, '-');
  d.metrics.opened(labels);
  host!.active++;
  let received = initial?.length ?? 0;
  let sent = 0;
  socket.on('data', (c: Buffer) => (received += c.length));
  upstream.on('data', (c: Buffer) => (sent += c.length));
  if (initial && initial.length > 0) upstream.write(initial);
  let idle: NodeJS.Timeout | undefined;
  if (cfg.idleTimeoutMs > 0) {
    idle = setTimeout(() => {
      reset(socket, new Error('idle timeout'));
      reset(upstream!, new Error('idle timeout'));
    }, cfg.idleTimeoutMs);
    const touch = () => idle?.refresh();
    socket.on('data', touch);
    upstream.on('data', touch);
  }
  socket.resume();
  const r = await splice(socket, upstream);
  if (idle) clearTimeout(idle);
  host!.active--;
  d.metrics.closed(labels, received, sent);
  log(r.error ? 'UC' : '-', host, received, sent, r.error?.message);
}
