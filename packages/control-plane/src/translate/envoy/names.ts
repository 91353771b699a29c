// Resource names shared by the proxyless gRPC and waypoint translators (Istio's conventions).

/** CDS/EDS name of one service port: `outbound|<port>||<hostname>`. */
export function clusterName(hostname: string, port: number): string {
  return `outbound|${port}||${hostname}`;
}

/** RDS name of one service port; also the proxyless listener name a client dialing `xds:///<hostname>:<port>` asks for. */
export function routeConfigName(hostname: string, port: number): string {
  return `${hostname}:${port}`;
}

/** The waypoint's one listener: HBONE is terminated by the waypoint, inner streams are matched by destination. */
export const WAYPOINT_LISTENER_NAME = 'waypoint_inbound';

/** Filter chain of one service port on the waypoint listener. */
export function waypointChainName(
  hostname: string,
  port: number,
  protocol: 'http' | 'tcp' = 'http',
): string {
  return `inbound-vip|${port}|${protocol}|${hostname}`;
}
